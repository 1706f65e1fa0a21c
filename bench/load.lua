-- A mix of what users ask for: canned queries (several parameters, several formats), /sparql with a typical
-- SELECT, resource pages, the home page. Each wrk thread walks the list round-robin.
local select = "PREFIX ms: <https://w3id.org/minsheng/def/> " ..
  "PREFIX sdmx-measure: <http://purl.org/linked-data/sdmx/2009/measure#> " ..
  "SELECT ?obs ?value WHERE { ?obs ms:indicator ?i ; sdmx-measure:obsValue ?value } ORDER BY ?obs LIMIT 50"
local function encode(text)
  return (text:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local paths = {
  "/queries/figures-by-region.json?region=330105",
  "/queries/figures-by-region.csv?region=330100",
  "/queries/indicator-across-regions.json?indicator_code=lift-retrofit",
  "/queries/indicator-across-regions.json?indicator_code=old-estate-renovation",
  "/queries/targets-vs-actuals.json",
  "/queries/search.json?keyword=%E7%94%B5%E6%A2%AF",
  "/queries/regions.csv",
  "/sparql?query=" .. encode(select),
  "/id/region/330105",
  "/data/gongshu-2024-minsheng/obs/lift-retrofit",
  "/def/indicator/lift-retrofit.ttl",
  "/",
}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1], { ["Accept"] = "*/*" })
end
