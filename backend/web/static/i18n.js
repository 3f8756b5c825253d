// The scripts' words in the page's language: the page embeds the translations of every message of
// static/*.js (a JSON block, <script type="application/json" id="i18n">, written by the service for
// the page's language; empty in English, the scripts' own words).
//
//   const { _, ngettext } = window.CommonsI18n;
//   _("Signing as %(name)s", { name })                   placeholders are %(name)s, as in the service
//   ngettext("%(num)s day", "%(num)s days", n)            num is n unless given; two forms (en, es)
"use strict";

(function () {
  let catalog = null;

  function messages() {
    if (catalog === null) {
      const block = document.getElementById("i18n");
      try { catalog = block ? JSON.parse(block.textContent) : {}; } catch (ignored) { catalog = {}; }
    }
    return catalog;
  }

  function fill(text, values) {
    if (!values) return text;
    return text.replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? String(values[name]) : whole));
  }

  function _(message, values) {
    const found = messages()[message];
    return fill(typeof found === "string" && found ? found : message, values);
  }

  function ngettext(singular, plural, n, values) {
    const found = messages()[singular];
    const forms = Array.isArray(found) && found.length === 2 ? found : [singular, plural];
    return fill(forms[n === 1 ? 0 : 1], { num: n, ...(values || {}) });
  }

  // The page's language, for numbers and dates written here ("en" dates as in Britain: 3 March 2026).
  function lang() {
    const code = document.documentElement.lang || "en";
    return code === "en" ? "en-GB" : code;
  }

  window.CommonsI18n = { _, ngettext, lang };
})();
