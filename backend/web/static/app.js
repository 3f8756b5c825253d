// Contribution Commons web app: the member's own wallet signs what the API prepares.
//
// Every write goes the same way: POST <api>/<action>/prepare with the form's fields and the
// signer's address, ask an EIP-1193 provider to sign the typed data (eth_signTypedData_v4),
// POST the signed request with ?wait=false, then follow the status_url of its answer until it is
// recorded on the chain and visible to everyone (indexed). The provider is the browser wallet
// (window.ethereum), or, on a local development chain only, the development signer (which signs on
// the service, see backend/web/dev_signer.py), or the person's passkey (passkey.js: for people with
// no wallet, whose member account is a contract the passkey signs for). No key is ever sent anywhere
// by this script.
//
// The pages are the same for everyone; what only some may do is marked in the HTML and shown or
// hidden here for whoever signs, and again as soon as the signer changes (personalise):
//   data-shown-for="0x… 0x…"   shown only to these signers (data-only-for: the same, one address);
//   data-hidden-for="0x… 0x…"  hidden from these signers (a claim's contributor and endorsers…);
//   data-vouchers="0x… 0x…"    a Vouch button, hidden from those who vouched and the candidate.
// Refusals are shown in words: the API's detail, its addresses by the names the page knows, and the
// contract's error name only in a "Details" disclosure beside it.
"use strict";

(function () {
  const body = document.body;
  const Passkey = window.CommonsPasskey;
  const { _, ngettext, lang } = window.CommonsI18n;
  document.documentElement.classList.add("js");
  const config = {
    api: body.dataset.api,
    community: body.dataset.community,
    communityName: body.dataset.communityName,
    chainId: Number(body.dataset.chainId),
    local: body.dataset.local === "1",
    rpcUrl: body.dataset.rpcUrl,
  };
  const STORE = "cc-signer";
  let signerAddress = null, signerLabel = null; // the connected signer, as last read

  // ------------------------------------------------------------------ the menu (phones)

  const menu = document.getElementById("site-menu");
  const toggle = document.querySelector(".menu-toggle");
  if (menu && toggle) {
    toggle.addEventListener("click", () => {
      const open = !menu.classList.contains("open");
      menu.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", String(open));
    });
  }

  // ------------------------------------------------------------------ providers

  function devProvider(address) {
    return {
      isDevelopmentSigner: true,
      async request({ method, params }) {
        if (method === "eth_requestAccounts" || method === "eth_accounts") return [address];
        if (method === "eth_chainId") return "0x" + config.chainId.toString(16);
        if (method === "eth_signTypedData_v4") {
          const answer = await api("POST", "/dev-signer/sign", { address: params[0], typed_data: JSON.parse(params[1]) });
          return answer.signature;
        }
        throw Object.assign(new Error(_("The development signer does not do %(method)s", { method })), { code: 4200 });
      },
    };
  }

  function choice() {
    return localStorage.getItem(STORE) || (config.local ? "" : "wallet");
  }

  function provider() {
    const chosen = choice();
    if (chosen === "passkey") {
      const entry = config.community && Passkey.record(config.community);
      if (!entry) throw new Error(_("This browser holds no passkey of yours for this community: choose Join with a passkey."));
      return Passkey.provider(entry, { chainId: config.chainId, api: config.api, post: (path, json) => api("POST", path, json) });
    }
    if (chosen.startsWith("dev:")) {
      if (!config.local) throw new Error(_("The development signer works only on a local development chain."));
      return devProvider(chosen.slice(4));
    }
    if (!window.ethereum) {
      throw new Error(config.local
        ? _("No browser wallet found. Install one (MetaMask, Rabby, Frame…), or pick a development signer in the menu.")
        : _("No browser wallet found. Install one (MetaMask, Rabby, Frame…)."));
    }
    return window.ethereum;
  }

  async function ensureChain(wallet) {
    const wanted = "0x" + config.chainId.toString(16);
    const current = await wallet.request({ method: "eth_chainId" });
    if (Number(current) === config.chainId) return;
    try {
      await wallet.request({ method: "wallet_switchEthereumChain", params: [{ chainId: wanted }] });
    } catch (error) {
      // 4902: the wallet does not know the chain. Only a local chain's address is ours to give.
      if (error && error.code === 4902 && config.local && config.rpcUrl) {
        await wallet.request({
          method: "wallet_addEthereumChain",
          params: [{ chainId: wanted, chainName: _("Local development chain %(chain)s", { chain: config.chainId }),
                     rpcUrls: [config.rpcUrl], nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 } }],
        });
      } else {
        throw new Error(_("Your wallet is on another network; switch it to chain %(chain)s.", { chain: config.chainId }));
      }
    }
  }

  async function account(wallet, ask) {
    const accounts = await wallet.request({ method: ask ? "eth_requestAccounts" : "eth_accounts" });
    if (!accounts || !accounts.length) throw new Error(_("The wallet shared no account."));
    return accounts[0];
  }

  // ------------------------------------------------------------------ names and long ids

  function short(text) { return text.length > 16 ? text.slice(0, 6) + "…" + text.slice(-4) : text; }

  // The names the page knows: each person it links by name carries the address in its title; the
  // development signers have theirs.
  function namesOnPage() {
    const names = new Map();
    for (const element of document.querySelectorAll("[title^='0x']")) {
      const text = element.textContent.trim();
      if (/^0x[0-9a-fA-F]{40}$/.test(element.title) && text && !text.startsWith("0x")) {
        names.set(element.title.toLowerCase(), text);
      }
    }
    for (const option of document.querySelectorAll("option[data-name]")) {
      names.set(option.value.slice(4).toLowerCase(), option.dataset.name);
    }
    return names;
  }

  // A sentence with its addresses as names (or short, the whole address in the title) and its long
  // numbers (a 78-digit proposal id) shortened: what fits a phone and reads as words.
  function humanise(text) {
    const names = namesOnPage();
    const out = document.createDocumentFragment();
    for (const part of String(text).split(/(0x[0-9a-fA-F]{40}\b|\b\d{21,}\b)/)) {
      if (/^0x[0-9a-fA-F]{40}$/.test(part) || /^\d{21,}$/.test(part)) {
        const span = Object.assign(document.createElement("span"), {
          title: part, textContent: names.get(part.toLowerCase()) || short(part) });
        out.append(span);
      } else if (part) {
        out.append(part);
      }
    }
    return out;
  }

  // A certificate's print button (its print stylesheet leaves the certificate alone on the page).
  document.addEventListener("click", (event) => {
    if (event.target.closest && event.target.closest("button[data-print]")) window.print();
  });

  // Copy buttons beside shortened ids.
  document.addEventListener("click", async (event) => {
    const button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      button.textContent = _("Copied");
    } catch (ignored) {
      button.textContent = _("Select it above");
    }
    setTimeout(() => { button.textContent = _("Copy"); }, 2000);
  });

  // ------------------------------------------------------------------ the signer box

  const select = document.getElementById("signer-choice");
  const status = document.getElementById("signer-status");
  const shortStatus = document.getElementById("signer-short");
  const connect = document.getElementById("connect");
  const join = document.getElementById("passkey-join");
  const joined = document.getElementById("passkey-note");

  function showSigner(address, label) {
    signerAddress = address || null;
    signerLabel = label || null;
    const name = address && (label || namesOnPage().get(address.toLowerCase()) || short(address));
    if (status) {
      status.textContent = !address ? _("Not connected")
        : choice() === "passkey" ? _("Signing with your passkey") : _("Signing as %(name)s", { name });
    }
    if (shortStatus) shortStatus.textContent = address ? (choice() === "passkey" ? _("Your passkey") : name) : "";
    // Someone signing already has a way to sign: joining is for those who have none.
    if (join) join.hidden = Boolean(address) || Boolean(config.community && Passkey.record(config.community));
    for (const link of document.querySelectorAll("[data-member-link]")) {
      const base = link.dataset.memberLink;
      if (address) link.href = base.replace("{address}", address);
    }
    personalise(address);
  }

  function listed(addresses, me) {
    return addresses.toLowerCase().split(/\s+/).includes(me);
  }

  // What only some may do shows for them alone, and says why to the others.
  function personalise(address) {
    const me = (address || "").toLowerCase();
    for (const element of document.querySelectorAll("[data-only-for], [data-shown-for], [data-hidden-for]")) {
      const only = element.dataset.shownFor !== undefined ? element.dataset.shownFor : element.dataset.onlyFor;
      let shown = only === undefined || (Boolean(me) && listed(only, me));
      if (shown && me && element.dataset.hiddenFor !== undefined && listed(element.dataset.hiddenFor, me)) shown = false;
      if (element.tagName === "OPTION") {
        element.hidden = element.disabled = !shown;
        const picker = element.parentElement.closest("select");
        if (!shown && element.selected && picker) { picker.selectedIndex = 0; picker.dispatchEvent(new Event("change")); }
      } else {
        element.hidden = !shown;
      }
    }
    for (const form of document.querySelectorAll("form[data-vouchers]")) {
      form.hidden = Boolean(me) && listed(form.dataset.vouchers, me);
    }
  }

  async function refreshSigner(ask) {
    try {
      const wallet = provider();
      const address = await account(wallet, ask);
      const option = choice().startsWith("dev:") && select && select.querySelector('option[value="dev:' + address + '"]');
      showSigner(address, option ? _("%(name)s (development signer)", { name: option.dataset.name }) : null);
      return address;
    } catch (error) {
      showSigner(null);
      if (ask && status) status.textContent = error.message;
      return null;
    }
  }

  // "My passkey" among the signers, once this browser holds the person's passkey for the community.
  function offerPasskey() {
    const entry = config.community && Passkey.record(config.community);
    if (join) join.hidden = Boolean(entry);
    if (!select || !entry || select.querySelector('option[value="passkey"]')) return;
    select.options[0].after(new Option(_("My passkey"), "passkey")); // after "your browser wallet"
  }

  async function joinWithPasskey() {
    join.disabled = true;
    status.textContent = _("Making your passkey: your device asks you to confirm it is you…");
    try {
      const entry = await Passkey.join({ community: config.community, communityName: config.communityName,
                                         api: config.api, post: (path, json) => api("POST", path, json) });
      localStorage.setItem(STORE, "passkey");
      offerPasskey();
      if (select) select.value = "passkey";
      await refreshSigner(false);
      const copy = Object.assign(document.createElement("button"), {
        type: "button", className: "copy secondary", textContent: _("Copy") });
      copy.dataset.copy = entry.address;
      copy.setAttribute("aria-label", _("Copy your member address"));
      const code = Object.assign(document.createElement("code"), { textContent: entry.address });
      joined.replaceChildren(...sentence(_("Your passkey is ready. Your member address is %(address)s %(copy)s: give " +
        "it to a member, who vouches for you or proposes admitting you. Once admitted, you sign with your passkey."),
        { address: code, copy }));
      joined.hidden = false;
    } catch (error) {
      status.textContent = error instanceof Problem ? wordsOf(error) : error.message;
    } finally {
      join.disabled = false;
    }
  }

  // A page that shows what waits for the signer ("Waiting for me") follows them: it shows the
  // connected member's list, and another's as soon as the signer changes, without a reload.
  async function followSigner(address, changed) {
    const holder = document.querySelector("[data-fill-member]");
    if (!holder || !address) return;
    if ((holder.dataset.member || "").toLowerCase() === address.toLowerCase()) return;
    if (!changed && new URLSearchParams(location.search).get("member")) return; // someone else's, asked for
    await rerender(holder.dataset.fillMember.replace("{address}", address));
  }

  async function rerender(url) {
    const main = document.getElementById("main");
    const response = await fetch(url, { headers: { accept: "text/html" } });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("main");
    if (!fresh) return;
    main.replaceChildren(...fresh.childNodes);
    setUp(main);
    showSigner(signerAddress, signerLabel);
    history.replaceState(null, "", url);
  }

  async function signerChanged(ask) {
    const address = await refreshSigner(ask);
    await followSigner(address, true);
  }

  offerPasskey();
  if (join) join.addEventListener("click", joinWithPasskey);
  if (select) {
    select.value = choice() || "wallet";
    if (!select.value) select.value = "wallet";
    select.addEventListener("change", () => { localStorage.setItem(STORE, select.value); signerChanged(false); });
  }
  if (connect) connect.addEventListener("click", () => {
    if (select) localStorage.setItem(STORE, select.value);
    signerChanged(true);
  });
  if (window.ethereum && window.ethereum.on) {
    window.ethereum.on("accountsChanged", () => signerChanged(false));
  }

  // ------------------------------------------------------------------ the API

  class Problem extends Error {
    constructor(problem) {
      super(problem.detail || problem.title || _("The service refused"));
      this.problem = problem;
    }
  }

  async function api(method, path, json) {
    const response = await fetch(path, {
      method, headers: json ? { "content-type": "application/json", accept: "application/json" } : {},
      body: json ? JSON.stringify(json) : undefined,
    });
    let answer = null;
    try { answer = await response.json(); } catch (ignored) { answer = { detail: response.statusText }; }
    if (!response.ok) throw new Problem({ status: response.status, ...answer });
    return answer;
  }

  // ------------------------------------------------------------------ refusals in words

  function escapeRegExp(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  // The refusal's sentence: the API's detail, without the contract error's name (kept for the
  // "Details" disclosure), which an older service or another path may still have put in it.
  function wordsOf(error) {
    let text = String(error.message || "");
    const name = error.problem && error.problem.error;
    if (name && /^[A-Za-z][A-Za-z0-9]*$/.test(name)) {
      const n = escapeRegExp(name);
      text = text.replace(new RegExp(":?\\s*" + n + "\\([^)]*\\)", "g"), "")
        .replace(new RegExp("\\s*\\(" + n + "[^)]*\\)", "g"), "")
        .replace(new RegExp("\\b" + n + "\\b;?\\s*", "g"), "");
    }
    text = text.replace(/^The contract refused the request:?\s*$/, _("The contract refused the request."));
    return text.trim().replace(/([^.!?])$/, "$1.");
  }

  function labelOf(input) {
    let text = "";
    if (input.type === "radio") {
      const legend = input.closest("fieldset") && input.closest("fieldset").querySelector("legend");
      text = legend ? legend.textContent : "";
    } else if (input.id) {
      const label = document.querySelector('label[for="' + CSS.escape(input.id) + '"]');
      text = label ? label.textContent : "";
    }
    // The label without what it adds in brackets ("Reason (optional, public)": "Reason").
    return text.replace(/\s*\([^)]*\)\s*$/, "").replace(/[?:]\s*$/, "").replace(/^¿/, "").trim();
  }

  function unitOf(input) {
    const unit = input.dataset.unit && document.getElementById(input.dataset.unit);
    return unit ? { seconds: Number(unit.value), name: unit.options[unit.selectedIndex].text } : { seconds: 86400, name: _("days") };
  }

  // n of a unit of the forms' (a month as 30 days, a year as 365), in words: "1 day", "2.5 weeks".
  const UNIT_WORDS = {
    60: (n, num) => ngettext("%(num)s minute", "%(num)s minutes", n, { num }),
    3600: (n, num) => ngettext("%(num)s hour", "%(num)s hours", n, { num }),
    86400: (n, num) => ngettext("%(num)s day", "%(num)s days", n, { num }),
    604800: (n, num) => ngettext("%(num)s week", "%(num)s weeks", n, { num }),
    2592000: (n, num) => ngettext("%(num)s month", "%(num)s months", n, { num }),
    31536000: (n, num) => ngettext("%(num)s year", "%(num)s years", n, { num }),
  };

  function inUnit(seconds, input) {
    const unit = unitOf(input);
    const n = Math.round((seconds / unit.seconds) * 1000) / 1000;
    const say = UNIT_WORDS[unit.seconds];
    return say ? say(n, n.toLocaleString(lang())) : n.toLocaleString(lang()) + " " + unit.name;
  }

  // A field's refusal as a person says it: "Validity: type a number of days", not "Input should
  // be a valid integer"; the API's bounds in the field's own unit.
  function fieldWords(item, input) {
    const label = input ? labelOf(input) : "";
    const msg = String(item.msg || "").replace(/^Value error,\s*/, "");
    const span = input && input.dataset.json === "span";
    const numbers = (msg.match(/-?\d[\d,]*(\.\d+)?/g) || []).map((n) => n.replace(/,/g, ""));
    const amount = (n) => (span ? inUnit(Number(n), input) : Number(n).toLocaleString(lang()));
    let words;
    switch (item.type) {
      case "missing": words = _("fill this in"); break;
      case "int_parsing": case "int_type": case "int_from_float": case "float_parsing": case "number":
        words = span ? _("type a number of %(unit)s", { unit: unitOf(input).name }) : _("type a whole number"); break;
      case "greater_than_equal": words = _("at least %(amount)s", { amount: amount(numbers[0]) }); break;
      case "greater_than": words = _("more than %(amount)s", { amount: amount(numbers[0]) }); break;
      case "less_than_equal": words = _("at most %(amount)s", { amount: amount(numbers[0]) }); break;
      case "less_than": words = _("less than %(amount)s", { amount: amount(numbers[0]) }); break;
      case "string_too_short":
        words = numbers[0] === "1" ? _("fill this in") : _("at least %(num)s characters", { num: numbers[0] }); break;
      case "string_too_long": words = _("up to %(num)s characters", { num: numbers[0] }); break;
      case "url_parsing": case "url_scheme": case "url_type": case "url_too_long":
        words = _("type a whole link, starting with https://"); break;
      case "literal_error": case "enum": words = _("choose one of the options"); break;
      default: {
        const within = /^must be within (\d+)-(\d+)$/.exec(msg);
        const bytes = /must be at most (\d+) bytes of UTF-8/.exec(msg);
        if (within) words = _("from %(low)s to %(high)s", { low: amount(within[1]), high: amount(within[2]) });
        else if (bytes) {
          words = _("up to %(num)s characters (a letter with an accent counts as two, an emoji as four)", { num: bytes[1] });
        } else if (!item.type && /^[A-Z¿¡ÁÉÍÓÚÑ]/.test(msg)) return msg; // already a sentence of its own
        else words = msg;
      }
    }
    return label ? _("%(label)s: %(words)s", { label, words }) : words.charAt(0).toUpperCase() + words.slice(1);
  }

  // ------------------------------------------------------------------ forms

  function value(input) {
    if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return undefined;
    if (input.matches(":disabled")) return undefined; // a field the form does not use as it stands
    const raw = input.value.trim();
    // Empty means "not given", except where empty is an answer (a name cleared, a site unlinked).
    if (raw === "") return input.hasAttribute("data-keep-empty") ? "" : undefined;
    switch (input.dataset.json) {
      // Not a number stays text, so the API names the mistake in its own words.
      case "int": return /^-?\d+$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : raw;
      case "int-list": return raw.split(/[\s,]+/).filter(Boolean).map((v) => (/^\d+$/.test(v) ? Number(v) : v));
      // Someone picked by name: the member's address; "no one" is null; "another address" leaves
      // the value to the field it shows (data-other-field), checked by precheck.
      case "member-choice": {
        const chosen = input.selectedOptions[0];
        if (chosen && chosen.hasAttribute("data-none")) return null;
        return chosen && chosen.hasAttribute("data-other") ? undefined : raw;
      }
      // A span typed in its unit (days by default, decimals allowed), sent in whole seconds.
      case "span": case "days": {
        const number = raw.replace(",", ".");
        return /^\d+(\.\d+)?$/.test(number) ? Math.round(Number(number) * unitOf(input).seconds) : raw;
      }
      default: return raw;
    }
  }

  function fields(scope) {
    const out = {};
    for (const input of scope.querySelectorAll("input[name], select[name], textarea[name]")) {
      const v = value(input);
      if (v !== undefined) out[input.name] = v;
    }
    return out;
  }

  function activeFieldset(form) {
    const type = form.querySelector("[data-role=action-type]");
    return type ? form.querySelector('[data-action-type="' + type.value + '"]') : null;
  }

  function showActionType(form) {
    const active = activeFieldset(form);
    for (const fieldset of form.querySelectorAll("[data-action-type]")) {
      fieldset.hidden = fieldset !== active;
      fieldset.disabled = fieldset !== active;
    }
  }

  function requestBody(form, signer) {
    const action = form.dataset.action;
    if (action === "proposals") {
      const fieldset = activeFieldset(form);
      const own = fieldset ? fields(fieldset) : {};
      const description = form.querySelector("[name=description]").value;
      return { signer, description, actions: [{ type: form.querySelector("[data-role=action-type]").value, ...own }] };
    }
    const out = { signer };
    for (const input of form.querySelectorAll("input[name], select[name], textarea[name]")) {
      const v = value(input);
      if (v !== undefined) out[input.name] = v;
    }
    return out;
  }

  // ---- checks the page makes at once, before asking anyone to sign

  const utf8 = new TextEncoder();

  function nameKey(name) { return String(name).trim().split(/\s+/).join(" ").toLowerCase(); }

  // The active indicator already called so, if any (an amended indicator keeps its own name).
  function nameTaken(input) {
    const form = input.closest("form[data-names-in-use]");
    if (!form || !input.value.trim()) return null;
    const fieldset = input.closest("[data-action-type]");
    const amended = fieldset && fieldset.querySelector("select[name=indicator_id]");
    const own = amended ? Number(amended.value) : null;
    const key = nameKey(input.value);
    const found = JSON.parse(form.dataset.namesInUse).find(([id, name]) => id !== own && nameKey(name) === key);
    return found ? { id: found[0], name: found[1] } : null;
  }

  function takenWords(taken) {
    return _("Name: an active indicator is already called “%(name)s” (indicator %(id)s): choose another name, or " +
      "amend or retire that one", { name: taken.name, id: taken.id });
  }

  const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

  // Why an address field's text is no address, and what to do: behind a picker's "another
  // address" (its data-other-field), pick a name instead; on its own (a new key, no member yet),
  // copy it from the wallet.
  function notAnAddress(input, raw) {
    const field = input.closest(".field[id]");
    const picker = field && input.form.querySelector('select[data-other-field="' + CSS.escape(field.id) + '"]');
    const label = labelOf(input);
    if (picker) {
      return raw
        ? _("%(label)s: “%(text)s” is not an address. An address is 0x and 40 hex digits, as the wallet shows " +
            "it; to choose a member, pick their name in the list above", { label, text: raw })
        : _("%(label)s: fill this in (0x and 40 hex digits), or pick a member in the list above", { label });
    }
    return raw
      ? _("%(label)s: “%(text)s” is not an address. An address is 0x and 40 hex digits, as the wallet shows it: " +
          "ask for it again, copied from the wallet, and paste it here", { label, text: raw })
      : _("%(label)s: fill this in (0x and 40 hex digits, as the wallet shows it)", { label });
  }

  function precheck(form) {
    const errors = [];
    const scope = activeFieldset(form) || form;
    for (const picker of scope.querySelectorAll("select[data-json=member-choice]")) {
      if (picker.matches(":disabled") || picker.closest("[hidden]") || picker.value) continue;
      errors.push({ loc: [picker.name], input: picker, msg: _("%(label)s: choose someone in the list", { label: labelOf(picker) }) });
    }
    for (const input of scope.querySelectorAll("input[name]")) {
      if (input.matches(":disabled") || input.closest("[hidden]")) continue;
      const raw = input.value.trim();
      // An address typed instead of a name picked, or a new key's address mistyped: said at once,
      // in words, before anyone signs.
      if (input.dataset.json === "address" && !ADDRESS.test(raw)) {
        errors.push({ loc: [input.name], input, msg: notAnAddress(input, raw) });
        continue;
      }
      if (!raw) continue;
      const json = input.dataset.json;
      if ((json === "int" && !/^\d+$/.test(raw)) || ((json === "span" || json === "days") && !/^\d+([.,]\d+)?$/.test(raw))) {
        errors.push({ loc: [input.name], type: "int_parsing", msg: _("not a number"), input });
      } else if (input.dataset.maxBytes && utf8.encode(raw).length > Number(input.dataset.maxBytes)) {
        const max = Number(input.dataset.maxBytes);
        errors.push({ loc: [input.name], input, msg: _("%(label)s: up to %(max)s characters (a letter with an accent " +
          "counts as two, an emoji as four); this one counts %(count)s",
                                                       { label: labelOf(input), max, count: utf8.encode(raw).length }) });
      } else if (input.hasAttribute("data-unique-name") && nameTaken(input)) {
        errors.push({ loc: [input.name], input, msg: takenWords(nameTaken(input)) });
      }
    }
    if (errors.length) {
      const problem = { status: 422, detail: _("Some fields need another look: nothing was sent."), errors };
      throw new Problem(problem);
    }
  }

  function clearErrors(form) {
    for (const p of form.querySelectorAll(".field-error, .form-error")) { p.hidden = true; p.textContent = ""; }
    for (const d of form.querySelectorAll(".problem-details")) d.remove();
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  function fieldFor(form, loc) {
    // The API names a field by its path (body, actions, 0, add_indicator, weight): the last
    // name that is a field of the visible form is the one to mark.
    const scope = activeFieldset(form);
    for (let i = loc.length - 1; i >= 0; i--) {
      if (typeof loc[i] !== "string") continue;
      const candidates = [...form.querySelectorAll('[name="' + CSS.escape(loc[i]) + '"]')]
        .filter((el) => !el.closest("[data-action-type]") || el.closest("[data-action-type]") === scope);
      // Two fields may give one value (pick a member, or type an address): the one that gave it,
      // as requestBody reads them (the last filled in), is the one to mark.
      if (candidates.length) return candidates.filter((el) => el.value.trim()).pop() || candidates[0];
    }
    return null;
  }

  function showField(form, input, text, focus) {
    const key = input && (input.type === "radio" ? input.closest("fieldset").id : input.id);
    const slot = input && form.querySelector('.field-error[data-for="' + key + '"]');
    if (!slot) return false;
    slot.replaceChildren(humanise(text));
    slot.hidden = false;
    input.setAttribute("aria-invalid", "true");
    if (focus) input.focus();
    return true;
  }

  // The contract's error, its arguments and the HTTP status, for whoever asks: in a disclosure.
  function technical(problem) {
    const box = Object.assign(document.createElement("details"), { className: "problem-details" });
    box.append(Object.assign(document.createElement("summary"), { textContent: _("Details") }));
    const args = problem.arguments ? Object.entries(problem.arguments).map(([k, v]) => k + "=" + v).join(", ") : "";
    const line = document.createElement("p");
    const code = Object.assign(document.createElement("code"), { textContent: problem.error + (args ? "(" + args + ")" : "") });
    line.append(...sentence(problem.title ? _("HTTP %(status)s (%(title)s) · error %(error)s")
      : _("HTTP %(status)s · error %(error)s"), { status: problem.status, title: problem.title, error: code }));
    box.append(line);
    return box;
  }

  function showProblem(form, error) {
    const general = form.querySelector(".form-error");
    const problem = error.problem;
    let placed = false;
    if (problem && Array.isArray(problem.errors)) {
      for (const item of problem.errors) {
        const input = item.input || fieldFor(form, item.loc || []);
        if (showField(form, input, fieldWords(item, input), !placed)) placed = true;
      }
    }
    if (!placed || !problem) {
      general.replaceChildren(humanise(problem ? wordsOf(error) : error.message));
      general.hidden = false;
    }
    if (problem && problem.error) general.after(technical(problem));
  }

  const STEPS = [["join", _("Making your passkey")], ["check", _("Checking")], ["sign", _("Waiting for your signature")],
                 ["sent", _("Sent")], ["recorded", _("Recorded on the chain")], ["visible", _("Visible to everyone")]];
  const PASSKEY_SIGN = _("Waiting for your passkey");

  // The steps of one write, shown in the form's (or box's) progress list; `joining`: a passkey is
  // made first (the invitation page).
  function progress(form, signed, passkey, joining) {
    const list = form.querySelector(".progress");
    list.replaceChildren();
    const items = {}, labels = {};
    for (const [key, label] of STEPS) {
      if (!signed && key === "sign") continue;
      if (!joining && key === "join") continue;
      const li = document.createElement("li");
      li.dataset.step = key;
      li.textContent = labels[key] = key === "sign" && passkey ? PASSKEY_SIGN : label;
      list.append(li);
      items[key] = li;
    }
    list.hidden = false;
    return {
      at(key, note) {
        let reached = true;
        for (const [k] of STEPS) {
          const li = items[k];
          if (!li) continue;
          li.className = reached ? (k === key ? "current" : "done") : "";
          if (k === key) reached = false;
        }
        if (note) items[key].textContent = _("%(step)s: %(note)s", { step: labels[key], note });
        list.dataset.state = key;
      },
      fail() { list.dataset.state = "failed"; for (const li of list.querySelectorAll(".current")) li.className = "failed"; },
    };
  }

  function nextPage(form, created) {
    const base = "/c/" + config.community;
    if (created.proposal_id) return [base + "/proposals/" + created.proposal_id, _("See the proposal")];
    if (created.token_id) return [base + "/badges/" + created.token_id, _("See the badge")];
    if (form.dataset.action === "claims" && created.claim_id) return [base + "/claims/" + created.claim_id, _("See the claim")];
    return [location.pathname + location.search, _("Show the page again")];
  }

  // Follows a request accepted into the relayer's outbox, at the status_url its answer gave:
  // queued, then sent in a transaction, then recorded on the chain and visible (indexed).
  async function follow(statusUrl, steps) {
    for (let i = 0; i < 600; i++) {
      const tx = await api("GET", statusUrl);
      if (tx.status === "failed") {
        throw new Error(_("%(error)s; nothing was recorded. Sign again.", { error: tx.error || _("The request failed on chain") }));
      }
      if (tx.tx_hash) steps.at("sent", _("transaction %(hash)s", { hash: short(tx.tx_hash) }));
      if (tx.status === "succeeded") {
        steps.at(tx.indexed ? "visible" : "recorded", tx.indexed ? null : _("block %(number)s", { number: tx.block_number }));
        if (tx.indexed) return tx;
      }
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    throw new Error(_("Recorded, but not visible to everyone yet; it may yet appear. Reload later."));
  }

  // Prepares one request, has the signer sign it and the relayer send it, and follows it until it
  // is visible, each step shown in `steps`. `body(signer)` is what the prepare takes; the signed
  // request goes to `submit` (the action itself unless the API takes it elsewhere).
  async function relay(steps, action, body, submit) {
    steps.at("check");
    const wallet = provider();
    const signer = await account(wallet, true);
    await ensureChain(wallet);
    const prepared = await api("POST", config.api + "/" + action + "/prepare", body(signer));
    steps.at("sign");
    const signature = await wallet.request({
      method: "eth_signTypedData_v4", params: [signer, JSON.stringify(prepared.typed_data)],
    });
    steps.at("sent", _("sending"));
    const answer = await api("POST", config.api + "/" + (submit || action) + "?wait=false",
                             { typed_data: prepared.typed_data, signature });
    steps.at("sent", answer.tx_hash ? _("transaction %(hash)s", { hash: short(answer.tx_hash) }) : _("accepted, waiting to be sent"));
    const tx = answer.status === "pending" ? await follow(answer.status_url, steps) : answer;
    steps.at("visible", _("done"));
    return { prepared, tx, signer };
  }

  // A refusal as the page says it: a declined signature, or a passkey the account refused, in words.
  function explained(error, passkey) {
    if (error && error.code === 4001) error = new Error(_("You declined to sign; nothing was sent."));
    if (passkey && error instanceof Problem && error.problem.error === "WalletRefusedSignature") {
      // The account's own check (ERC-1271) said no: in words, the technical detail left out.
      error = new Problem({ ...error.problem, detail: _("Your member account did not accept your passkey's " +
        "signature, so nothing was sent. Sign again; if it is refused again, this passkey is not your account's.") });
    }
    return error instanceof Problem ? error : new Error((error && error.message) || String(error));
  }

  // A moment as the pages write it: 3 March 2026, 14:05 UTC (3 de marzo de 2026, 14:05 UTC).
  function when(timestamp) {
    const d = new Date(timestamp * 1000);
    const pad = (n) => String(n).padStart(2, "0");
    const date = new Intl.DateTimeFormat(lang(), { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(d);
    return _("%(date)s, %(time)s UTC", { date, time: pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) });
  }

  // A translated sentence whose %(name)s placeholders are elements (or text): the nodes to append.
  function sentence(text, values) {
    return text.split(/(%\(\w+\)s)/).filter(Boolean).map((part) => {
      const name = /^%\((\w+)\)s$/.exec(part);
      return name && name[1] in values ? (values[name[1]] instanceof Node ? values[name[1]] : String(values[name[1]])) : part;
    });
  }

  // "Step 1 of 2: ...", above the progress list, for a write that takes two signatures.
  function phase(form, text) {
    let line = form.querySelector(".phase");
    if (!line) {
      line = Object.assign(document.createElement("p"), { className: "phase" });
      form.querySelector(".progress").before(line);
    }
    line.textContent = text;
  }

  // The invitation link to pass on: the secret in the fragment (after #), which browsers never send,
  // so it reaches no server's logs. With a button that copies it.
  async function showInvitationLink(form, prepared, name) {
    const link = location.origin + "/c/" + config.community + "/invitations/" + prepared.invitation + "#" +
      prepared.secret;
    let until = "";
    try {
      until = " " + _("It works until %(when)s.", { when: when((await api("GET", config.api + "/invitations/" + prepared.invitation)).expires_at) });
    } catch (ignored) { /* the link works all the same */ }
    const id = "link-" + prepared.invitation;
    const box = Object.assign(document.createElement("div"), { className: "invitation-link" });
    const text = Object.assign(document.createElement("p"), {
      textContent: _("Pass this link on to %(name)s by email or chat: opening it, they join and find what waits for " +
        "them. Whoever holds it can join as %(name)s, so send it to them only.", { name }) + until,
    });
    const label = Object.assign(document.createElement("label"), { htmlFor: id, textContent: _("Invitation link for %(name)s", { name }) });
    const field = Object.assign(document.createElement("input"), { id, value: link, readOnly: true, spellcheck: false });
    const copy = Object.assign(document.createElement("button"), { type: "button", textContent: _("Copy the link") });
    const copied = document.createElement("span");
    copied.setAttribute("aria-live", "polite");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(link);
      } catch (ignored) {
        field.select();
        document.execCommand("copy");
      }
      copied.textContent = " " + _("Copied: paste it into your message.");
    });
    const row = Object.assign(document.createElement("p"), { className: "actions-row" });
    row.append(copy, copied);
    box.append(text, label, field, row);
    form.querySelector(".progress").after(box);
  }

  function inviting(form) {
    const who = form.querySelector("select[name=contributor]");
    return Boolean(who && who.value === "invite");
  }

  // Credit someone who has not joined: invite them (their name), then nominate the invitation's
  // address, two signatures; the link to pass on is shown as soon as the invitation is recorded.
  async function inviteAndCredit(form, passkey, track) {
    const name = form.querySelector("[data-when-invite] input").value.trim();
    if (!name) {
      const msg = _("Their name is needed: the name others see until they join.");
      throw new Problem({ status: 422, detail: msg, errors: [{ loc: ["body", "name"], msg }] });
    }
    phase(form, _("Step 1 of 2: inviting %(name)s", { name }));
    const invited = await relay(track(progress(form, true, passkey)), "invitations", (signer) => ({ signer, name }));
    await showInvitationLink(form, invited.prepared, name);
    phase(form, _("Step 2 of 2: crediting %(name)s", { name }));
    const credited = await relay(track(progress(form, true, passkey)), "claims", (signer) => {
      const body = requestBody(form, signer);
      delete body.name;
      return { ...body, contributor: invited.prepared.invitation };
    });
    return credited.tx.created || {};
  }

  // Done once (a vote, an endorsement, an answer): the form folds to what happened.
  function fold(form) {
    for (const child of form.children) {
      if (!child.matches("h2, .progress, .done, .phase, .invitation-link")) child.hidden = true;
    }
  }

  async function write(form) {
    clearErrors(form);
    for (const old of form.querySelectorAll(".done, .phase")) old.remove();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const action = form.dataset.action;
    const signed = action !== "execute";
    const passkey = signed && choice() === "passkey";
    let steps = null;
    const track = (shown) => (steps = shown);
    try {
      precheck(form);
      let created;
      if (action === "claims" && inviting(form)) {
        created = await inviteAndCredit(form, passkey, track);
      } else if (signed) {
        const { prepared, tx } = await relay(track(progress(form, true, passkey)), action,
                                             (signer) => requestBody(form, signer), form.dataset.submit);
        if (prepared.invitation && prepared.secret) await showInvitationLink(form, prepared, requestBody(form, "").name);
        created = tx.created || {};
      } else {
        track(progress(form, false, false));
        steps.at("check");
        steps.at("sent", _("sending"));
        const carry = async () => {
          const answer = await api("POST", config.api + "/proposals/" + form.dataset.proposal + "/execute?wait=false");
          steps.at("sent", answer.tx_hash ? _("transaction %(hash)s", { hash: short(answer.tx_hash) }) : _("accepted, waiting to be sent"));
          return answer.status === "pending" ? await follow(answer.status_url, steps) : answer;
        };
        let tx = await carry();
        if (tx.created && tx.created.queued_proposal_id && !tx.created.executed_proposal_id) {
          // Queued in the timelock: with no waiting time it runs at once (a second step);
          // otherwise the service says until when, and carries it out by itself then.
          try {
            tx = await carry();
          } catch (error) {
            if (!(error instanceof Problem) || error.problem.error !== "ProposalWaitsForTimelock") throw error;
          }
        }
        steps.at("visible", _("done"));
        created = tx.created || {};
      }
      const [href, text] = nextPage(form, created);
      const p = document.createElement("p");
      p.className = "done";
      const link = document.createElement("a");
      link.href = href;
      link.textContent = text;
      p.append(_("Recorded.") + " ", link);
      form.append(p);
      if (form.hasAttribute("data-once")) fold(form);
    } catch (error) {
      if (steps) steps.fail();
      showProblem(form, explained(error, passkey));
    } finally {
      button.disabled = false;
    }
  }

  // ------------------------------------------------------------------ the invitation page

  // The invitation's secret, from the link's fragment: 0x and 64 hex digits.
  function linkSecret() {
    const match = /^#(0x[0-9a-fA-F]{64})$/.exec(location.hash);
    return match ? match[1] : null;
  }

  // Join and accept at once: make a passkey (unless this browser holds one for the community) or
  // use the wallet, then accept the invitation as that account, signed by it, the secret handed to
  // the service for this one prepare. The page then shows where the person stands.
  async function acceptInvitation(box, how) {
    clearErrors(box);
    const buttons = [...box.querySelectorAll("button")];
    for (const b of buttons) b.disabled = true;
    const passkey = how === "passkey";
    const joining = passkey && !Passkey.record(config.community);
    const steps = progress(box, true, passkey, joining);
    try {
      const secret = linkSecret();
      Passkey.acceptingInvitation(secret);
      if (joining) {
        steps.at("join");
        await Passkey.join({ community: config.community, communityName: config.communityName,
                             api: config.api, post: (path, json) => api("POST", path, json) });
        offerPasskey();
      }
      localStorage.setItem(STORE, passkey ? "passkey" : "wallet");
      if (select) select.value = passkey ? "passkey" : "wallet";
      await refreshSigner(false);
      await relay(steps, "invitations/acceptance", (signer) => ({ signer, secret }), "invitations");
      // Accepted: the secret has done its work; it leaves the address bar, and the page shows the news.
      history.replaceState(null, "", location.pathname + location.search);
      location.reload();
    } catch (error) {
      steps.fail();
      showProblem(box, explained(error, passkey));
      for (const b of buttons) b.disabled = false;
    }
  }

  function setUpInvitation(box) {
    const byPasskey = box.querySelector("[data-join=passkey]");
    const byWallet = box.querySelector("[data-join=wallet]");
    const passkeys = box.dataset.passkeys === "1";
    if (passkeys && Passkey.record(config.community)) byPasskey.textContent = _("Accept with my passkey");
    byWallet.hidden = !(window.ethereum || !passkeys);
    if (!linkSecret()) {
      showProblem(box, new Error(_("This link is missing its secret, the part after # that makes it work. Open the " +
        "whole link you were sent, or ask for it again.")));
      byPasskey.disabled = byWallet.disabled = true;
      return;
    }
    byPasskey.addEventListener("click", () => acceptInvitation(box, "passkey"));
    byWallet.addEventListener("click", () => acceptInvitation(box, "wallet"));
  }

  // ------------------------------------------------------------------ setting up a page (or a part re-rendered)

  function setUp(root) {
    const invitation = root.querySelector("#accept-invitation");
    if (invitation) setUpInvitation(invitation);

    // The claim form's "someone who has not joined yet": their name instead of an address.
    for (const who of root.querySelectorAll("form.write select[name=contributor]")) {
      const form = who.closest("form");
      const change = () => {
        const invite = who.value === "invite";
        for (const [selector, shown] of [["[data-when-invite]", invite], ["[data-unless-invite]", !invite]]) {
          for (const field of form.querySelectorAll(selector)) {
            field.hidden = !shown;
            for (const input of field.querySelectorAll("input")) input.disabled = !shown;
          }
        }
      };
      who.addEventListener("change", change);
      change();
    }

    // A picker of someone by name whose "another address" option shows a field to type one in
    // (the guardian: a member, or a shared wallet that is no member; a member to remove or
    // recover: one the public list does not show).
    for (const picker of root.querySelectorAll("select[data-other-field]")) {
      const field = document.getElementById(picker.dataset.otherField);
      const change = () => {
        const chosen = picker.selectedOptions[0];
        const other = Boolean(chosen && chosen.hasAttribute("data-other"));
        field.hidden = !other;
        for (const input of field.querySelectorAll("input")) input.disabled = !other;
      };
      picker.addEventListener("change", change);
      change();
    }

    // A new indicator's name, checked against the active ones as it is typed.
    for (const input of root.querySelectorAll("input[data-unique-name]")) {
      const form = input.closest("form");
      const check = () => {
        const taken = nameTaken(input);
        const slot = form.querySelector('.field-error[data-for="' + input.id + '"]');
        if (taken) {
          slot.textContent = takenWords(taken);
          slot.hidden = false;
          input.setAttribute("aria-invalid", "true");
        } else if (input.getAttribute("aria-invalid")) {
          slot.hidden = true;
          slot.textContent = "";
          input.removeAttribute("aria-invalid");
        }
      };
      input.addEventListener("input", check);
      const fieldset = input.closest("[data-action-type]");
      const amended = fieldset && fieldset.querySelector("select[name=indicator_id]");
      if (amended) amended.addEventListener("change", check);
    }

    // The quorum as members: "with 3 members now, 2 of 3".
    for (const words of root.querySelectorAll("[data-quorum-words-for]")) {
      const input = document.getElementById(words.dataset.quorumWordsFor);
      const members = Number(input.dataset.members);
      const say = () => {
        const percent = Number(input.value.trim());
        words.textContent = input.value.trim() && Number.isInteger(percent) && percent >= 1 && percent <= 100
          ? ngettext("With %(num)s member now, that is %(needed)s of %(num)s.",
                     "With %(num)s members now, that is %(needed)s of %(num)s.", members,
                     { needed: Math.floor((members * percent) / 100) })
          : "";
      };
      input.addEventListener("input", say);
      say();
    }

    for (const form of root.querySelectorAll("form.write")) {
      const type = form.querySelector("[data-role=action-type]");
      if (type) { showActionType(form); type.addEventListener("change", () => showActionType(form)); }
      if (form.method === "get" && !form.dataset.action) continue; // the report's period: an ordinary form
      form.addEventListener("submit", (event) => { event.preventDefault(); write(form); });
    }
  }

  setUp(document);
  refreshSigner(false).then((address) => followSigner(address, false));

  // What drafts.js (capture's drafts on "Waiting for me") signs its off-chain requests with: the same signer,
  // API client and refusals in words as every form here.
  window.CommonsApp = { provider, account, ensureChain, api, explained, showProblem, clearErrors,
                        passkey: () => choice() === "passkey" };
})();
