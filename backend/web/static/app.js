// Contribution Commons web app: the member's own wallet signs what the API prepares.
//
// Every write goes the same way: POST <api>/<action>/prepare with the form's fields and the
// signer's address, ask an EIP-1193 provider to sign the typed data (eth_signTypedData_v4),
// POST the signed request with ?wait=false, then follow the status_url of its answer until it is
// mined and indexed. The provider is the browser wallet (window.ethereum), or, on a local
// development chain only, the development signer (which signs on the service, see
// backend/web/dev_signer.py), or the person's passkey (passkey.js: for people with no wallet,
// whose member account is a contract the passkey signs for). No key is ever sent anywhere by
// this script.
"use strict";

(function () {
  const body = document.body;
  const Passkey = window.CommonsPasskey;
  const config = {
    api: body.dataset.api,
    community: body.dataset.community,
    communityName: body.dataset.communityName,
    chainId: Number(body.dataset.chainId),
    local: body.dataset.local === "1",
    rpcUrl: body.dataset.rpcUrl,
  };
  const STORE = "cc-signer";

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
        throw Object.assign(new Error("The development signer does not do " + method), { code: 4200 });
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
      if (!entry) throw new Error("This browser holds no passkey of yours for this community: choose Join with a passkey.");
      return Passkey.provider(entry, { chainId: config.chainId, api: config.api, post: (path, json) => api("POST", path, json) });
    }
    if (chosen.startsWith("dev:")) {
      if (!config.local) throw new Error("The development signer works only on a local development chain.");
      return devProvider(chosen.slice(4));
    }
    if (!window.ethereum) {
      throw new Error("No browser wallet found. Install one (MetaMask, Rabby, Frame…)" +
        (config.local ? ", or pick a development signer above." : "."));
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
          params: [{ chainId: wanted, chainName: "Local development chain " + config.chainId,
                     rpcUrls: [config.rpcUrl], nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 } }],
        });
      } else {
        throw new Error("Your wallet is on another network; switch it to chain " + config.chainId + ".");
      }
    }
  }

  async function account(wallet, ask) {
    const accounts = await wallet.request({ method: ask ? "eth_requestAccounts" : "eth_accounts" });
    if (!accounts || !accounts.length) throw new Error("The wallet shared no account.");
    return accounts[0];
  }

  // ------------------------------------------------------------------ the signer box

  const select = document.getElementById("signer-choice");
  const status = document.getElementById("signer-status");
  const connect = document.getElementById("connect");
  const join = document.getElementById("passkey-join");
  const joined = document.getElementById("passkey-note");

  function short(address) { return address.slice(0, 6) + "…" + address.slice(-4); }

  function showSigner(address, label) {
    status.textContent = !address ? "Not connected"
      : choice() === "passkey" ? "Signing with your passkey" : "Signing as " + (label || short(address));
    for (const link of document.querySelectorAll("[data-member-link]")) {
      const base = link.dataset.memberLink;
      if (address) link.href = base.replace("{address}", address);
    }
  }

  async function refreshSigner(ask) {
    try {
      const wallet = provider();
      const address = await account(wallet, ask);
      const option = choice().startsWith("dev:") && select && select.querySelector('option[value="dev:' + address + '"]');
      showSigner(address, option ? option.dataset.name + " (development signer)" : null);
      return address;
    } catch (error) {
      showSigner(null);
      if (ask) status.textContent = error.message;
      return null;
    }
  }

  // "My passkey" among the signers, once this browser holds the person's passkey for the community.
  function offerPasskey() {
    const entry = config.community && Passkey.record(config.community);
    if (join) join.hidden = Boolean(entry);
    if (!select || !entry || select.querySelector('option[value="passkey"]')) return;
    select.options[0].after(new Option("My passkey", "passkey")); // after "your browser wallet"
  }

  async function joinWithPasskey() {
    join.disabled = true;
    status.textContent = "Making your passkey: your device asks you to confirm it is you…";
    try {
      const entry = await Passkey.join({ community: config.community, communityName: config.communityName,
                                         api: config.api, post: (path, json) => api("POST", path, json) });
      localStorage.setItem(STORE, "passkey");
      offerPasskey();
      if (select) select.value = "passkey";
      await refreshSigner(false);
      joined.replaceChildren("Your passkey is ready. Your member address is ", Object.assign(
        document.createElement("code"), { textContent: entry.address }),
        ": give it to a member, who proposes admitting you. Once admitted, you sign with your passkey.");
      joined.hidden = false;
    } catch (error) {
      status.textContent = error instanceof Problem ? "Refused: " + error.message : error.message;
    } finally {
      join.disabled = false;
    }
  }

  offerPasskey();
  if (join) join.addEventListener("click", joinWithPasskey);
  if (select) {
    select.value = choice() || "wallet";
    if (!select.value) select.value = "wallet";
    select.addEventListener("change", () => { localStorage.setItem(STORE, select.value); refreshSigner(false); });
  }
  if (connect) connect.addEventListener("click", () => {
    if (select) localStorage.setItem(STORE, select.value);
    refreshSigner(true);
  });
  if (window.ethereum && window.ethereum.on) {
    window.ethereum.on("accountsChanged", () => refreshSigner(false));
  }
  refreshSigner(false).then((address) => {
    // "Waiting for your endorsement" without an address: the connected member's.
    const page = document.querySelector("[data-fill-member]");
    if (page && address && !new URLSearchParams(location.search).get("member")) {
      location.replace(page.dataset.fillMember.replace("{address}", address));
    }
  });

  // ------------------------------------------------------------------ the API

  class Problem extends Error {
    constructor(problem) {
      super(problem.detail || problem.title || "The service refused");
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

  // ------------------------------------------------------------------ forms

  function value(input) {
    if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return undefined;
    const raw = input.value.trim();
    if (raw === "") return undefined;
    switch (input.dataset.json) {
      // Not a number stays text, so the API names the mistake in its own words.
      case "int": return /^-?\d+$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : raw;
      case "int-list": return raw.split(/[\s,]+/).filter(Boolean).map((v) => (/^\d+$/.test(v) ? Number(v) : v));
      // A span typed in days (decimals allowed), sent in whole seconds as the API takes it.
      case "days": return /^\d+(\.\d+)?$/.test(raw) ? Math.round(Number(raw) * 86400) : raw;
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

  function clearErrors(form) {
    for (const p of form.querySelectorAll(".field-error, .form-error")) { p.hidden = true; p.textContent = ""; }
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

  function showProblem(form, error) {
    const general = form.querySelector(".form-error");
    const problem = error.problem;
    let placed = false;
    if (problem && Array.isArray(problem.errors)) {
      for (const item of problem.errors) {
        const input = fieldFor(form, item.loc || []);
        const key = input && (input.type === "radio" ? input.closest("fieldset").id : input.id);
        const slot = input && form.querySelector('.field-error[data-for="' + key + '"]');
        if (!slot) continue;
        slot.textContent = item.msg;
        slot.hidden = false;
        input.setAttribute("aria-invalid", "true");
        if (!placed) input.focus();
        placed = true;
      }
    }
    if (!placed || !problem) {
      const name = problem && problem.error && !error.message.includes(problem.error) ? " (" + problem.error + ")" : "";
      general.textContent = (problem && problem.status ? "Refused: " : "") + error.message + name;
      general.hidden = false;
    }
  }

  const STEPS = [["prepare", "Checking with the service"], ["sign", "Signing in your wallet"],
                 ["sent", "Sent to the chain"], ["mined", "Mined"], ["indexed", "Indexed"]];
  const PASSKEY_SIGN = "Signing with your passkey";

  function progress(form, signed, passkey) {
    const list = form.querySelector(".progress");
    list.replaceChildren();
    const items = {}, labels = {};
    for (const [key, label] of STEPS) {
      if (!signed && key === "sign") continue;
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
        if (note) items[key].textContent = labels[key] + ": " + note;
        list.dataset.state = key;
      },
      fail() { list.dataset.state = "failed"; for (const li of list.querySelectorAll(".current")) li.className = "failed"; },
    };
  }

  function nextPage(form, created) {
    const base = "/c/" + config.community;
    if (created.proposal_id) return [base + "/proposals/" + created.proposal_id, "See the proposal"];
    if (created.token_id) return [base + "/badges/" + created.token_id, "See the badge"];
    if (form.dataset.action === "claims" && created.claim_id) return [base + "/claims/" + created.claim_id, "See the claim"];
    return [location.pathname + location.search, "Show the page again"];
  }

  // Follows a request accepted into the relayer's outbox, at the status_url its answer gave:
  // queued, then sent in a transaction, then mined and indexed.
  async function follow(statusUrl, steps) {
    for (let i = 0; i < 600; i++) {
      const tx = await api("GET", statusUrl);
      if (tx.status === "failed") {
        throw new Error((tx.error || "The request failed on chain") + "; nothing was recorded. Sign again.");
      }
      if (tx.tx_hash) steps.at("sent", "transaction " + short(tx.tx_hash));
      if (tx.status === "succeeded") {
        steps.at(tx.indexed ? "indexed" : "mined", tx.indexed ? null : "block " + tx.block_number);
        if (tx.indexed) return tx;
      }
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    throw new Error("Still not indexed; the transaction may yet land. Reload later.");
  }

  async function write(form) {
    clearErrors(form);
    const done = form.querySelector(".done");
    if (done) done.remove();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const action = form.dataset.action;
    const signed = action !== "execute";
    const passkey = signed && choice() === "passkey";
    const steps = progress(form, signed, passkey);
    try {
      let answer;
      steps.at("prepare");
      if (signed) {
        const wallet = provider();
        const signer = await account(wallet, true);
        await ensureChain(wallet);
        const prepared = await api("POST", config.api + "/" + action + "/prepare", requestBody(form, signer));
        steps.at("sign");
        const signature = await wallet.request({
          method: "eth_signTypedData_v4", params: [signer, JSON.stringify(prepared.typed_data)],
        });
        steps.at("sent", "sending");
        answer = await api("POST", config.api + "/" + action + "?wait=false",
                           { typed_data: prepared.typed_data, signature });
      } else {
        steps.at("sent", "sending");
        answer = await api("POST", config.api + "/proposals/" + form.dataset.proposal + "/execute?wait=false");
      }
      steps.at("sent", answer.tx_hash ? "transaction " + short(answer.tx_hash) : "accepted, waiting to be sent");
      const tx = answer.status === "pending" ? await follow(answer.status_url, steps) : answer;
      steps.at("indexed", "done");
      const [href, text] = nextPage(form, tx.created || {});
      const p = document.createElement("p");
      p.className = "done";
      const link = document.createElement("a");
      link.href = href;
      link.textContent = text;
      p.append("Recorded. ", link);
      form.append(p);
    } catch (error) {
      steps.fail();
      if (error && error.code === 4001) error = new Error("You declined to sign; nothing was sent.");
      if (passkey && error instanceof Problem && error.problem.error === "WalletRefusedSignature") {
        // The account's own check (ERC-1271) said no: in words, the technical detail left out.
        error = new Problem({ ...error.problem, detail: "Your member account did not accept your passkey's " +
          "signature, so nothing was sent. Sign again; if it is refused again, this passkey is not your account's." });
      }
      showProblem(form, error instanceof Problem ? error : new Error(error.message || String(error)));
    } finally {
      button.disabled = false;
    }
  }

  for (const form of document.querySelectorAll("form.write")) {
    const type = form.querySelector("[data-role=action-type]");
    if (type) { showActionType(form); type.addEventListener("change", () => showActionType(form)); }
    form.addEventListener("submit", (event) => { event.preventDefault(); write(form); });
  }
})();
