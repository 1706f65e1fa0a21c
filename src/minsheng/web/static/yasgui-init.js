// Starts YASGUI on /editor with this server's /sparql and the query the page was given. Nothing is fetched
// from elsewhere: prefixes come from this server, and the class and property completers (they ask LOV on the
// internet) are not enabled.
document.addEventListener("DOMContentLoaded", () => {
  const element = document.getElementById("yasgui");
  if (!element || typeof Yasgui === "undefined") return;
  const query = document.getElementById("initial-query").content.textContent;
  const yasgui = new Yasgui(element, {
    requestConfig: { endpoint: element.dataset.endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    // No saved tabs: the page shows the query it was opened with, not one from an earlier visit.
    persistenceId: null,
    yasqe: { autocompleters: ["prefixes", "variables"], prefixCcApi: element.dataset.prefixes },
  });
  yasgui.getTab().setQuery(query);
  window.minshengYasgui = yasgui; // for the browser test
});
