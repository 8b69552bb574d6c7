// Keep the user's place when their session ends while they fill in a form
// (docs/security.md "An expired session keeps the form").
//
// Every POST form's visible, non-secret fields are kept in this tab's sessionStorage as it
// is sent (never on the server, never in a cookie; forms with a password field are not
// kept). When a send is refused because the session had ended, the server asks the user
// to sign in and then brings them back to the page with data-restore-form on <body>: the
// fields are filled in again and the user checks and sends the form once more.
(function () {
  "use strict";
  var KEY = "carenet.kept-form";
  var MAX_AGE_MS = 12 * 60 * 60 * 1000;
  var SKIPPED = { hidden: 1, password: 1, file: 1, submit: 1, button: 1, reset: 1, image: 1 };

  function here() { return window.location.pathname + window.location.search; }

  function keep(event) {
    var form = event.target;
    if (!form || form.tagName !== "FORM" || (form.method || "").toLowerCase() !== "post") return;
    if (form.querySelector("input[type=password]") || form.hasAttribute("data-no-keep")) return;
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIPPED[el.type] || el.disabled) return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.selectedOptions, function (o) { fields.push([el.name, o.value]); });
      } else {
        fields.push([el.name, el.value]);
      }
    });
    try {
      window.sessionStorage.setItem(KEY, JSON.stringify({
        path: here(), action: form.getAttribute("action") || "", at: Date.now(), fields: fields
      }));
    } catch (e) { /* storage full or off: nothing kept */ }
  }

  function fill(form, fields) {
    var first = null;
    fields.forEach(function (pair) {
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name !== pair[0] || SKIPPED[el.type]) return;
        if (el.type === "checkbox" || el.type === "radio") {
          if (el.value === pair[1]) el.checked = true;
        } else if (el.tagName === "SELECT" && el.multiple) {
          Array.prototype.forEach.call(el.options, function (o) { if (o.value === pair[1]) o.selected = true; });
        } else {
          el.value = pair[1];
        }
        first = first || el;
      });
    });
    if (first) first.focus();
  }

  function restore() {
    var wanted = document.body.getAttribute("data-restore-form");
    var raw = null;
    try { raw = window.sessionStorage.getItem(KEY); } catch (e) { return; }
    if (!raw) return;
    var kept;
    try { kept = JSON.parse(raw); } catch (e) { kept = null; }
    if (!kept || kept.path !== here()) return;
    window.sessionStorage.removeItem(KEY);  // used once, or dropped when the send went through
    if (wanted === null || wanted !== kept.path || Date.now() - kept.at > MAX_AGE_MS) return;
    var forms = document.querySelectorAll("form[method=post], form[method=POST]");
    Array.prototype.forEach.call(forms, function (form) {
      if ((form.getAttribute("action") || "") === kept.action) fill(form, kept.fields);
    });
  }

  document.addEventListener("submit", keep, true);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", restore);
  else restore();
})();
