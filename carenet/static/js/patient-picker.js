/* The referral form's patient picker as a type-ahead: typing a name or a birth date asks
 * /patients/lookup (the coordinator's organization's patients, JSON) and lists links to
 * the form with that patient chosen. Without JavaScript the form is a plain search. */
(function () {
  "use strict";
  function start() {
    var form = document.getElementById("picker-form");
    var input = document.getElementById("patient-q");
    var list = document.getElementById("picker-results");
    if (!form || !input || !list) { return; }
    var serviceId = form.querySelector("input[name=service_id]").value;
    var timer = null;
    var asked = 0;

    function link(p) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.className = "pick";
      a.href = form.action + "?service_id=" + encodeURIComponent(serviceId) +
        "&patient_id=" + encodeURIComponent(p.id);
      a.textContent = p.name;
      var born = document.createElement("span");
      born.className = "muted";
      born.textContent = " born " + p.birth_date;
      li.appendChild(a);
      li.appendChild(born);
      return li;
    }

    function show(patients, query) {
      list.textContent = "";
      if (!patients.length) {
        var none = document.createElement("li");
        none.className = "muted";
        none.textContent = "No patient of your organization matches \u201c" + query + "\u201d.";
        list.appendChild(none);
        return;
      }
      patients.forEach(function (p) { list.appendChild(link(p)); });
    }

    function ask() {
      var query = input.value.trim();
      if (query.length < 2) { return; }
      var mine = ++asked;
      fetch(form.dataset.lookup + "?q=" + encodeURIComponent(query),
            { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { patients: [] }; })
        .then(function (body) { if (mine === asked) { show(body.patients || [], query); } })
        .catch(function () { /* the plain form still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 250);
    });
    // typed before this script ran (a slow page): ask for what is already there
    if (input.value.trim().length >= 2) { ask(); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
