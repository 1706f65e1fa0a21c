// Fills the query editor from the example list. Everything else on the page works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  const select = document.getElementById("examples");
  if (!select) return;
  select.addEventListener("change", () => {
    const template = document.getElementById("example-" + select.value);
    if (template) document.getElementById(select.dataset.target).value = template.content.textContent;
  });
});
