// Capture's drafts on "Waiting for me" (backend/capture, templates/capture_drafts.html).
//
// A draft is signed as a claim, an endorsement or an invitation by app.js's own forms. What is left here is
// what is not a transaction: dismissing a draft, and turning capture off (or on again), each a request the
// member signs off chain (EIP-712) with the signer app.js connected, through what app.js shares
// (window.CommonsApp: the signer, the API client, refusals in words). Listens on the document, so that it
// works on a part of the page app.js renders again when the signer changes.
"use strict";

(function () {
  async function send(form) {
    const app = window.CommonsApp;
    if (!app) return;
    const button = form.querySelector("button[type=submit]");
    app.clearErrors(form);
    button.disabled = true;
    try {
      const wallet = app.provider();
      const member = await app.account(wallet, true);
      await app.ensureChain(wallet);
      const kind = form.dataset.capture; // dismissals | preferences
      const path = document.body.dataset.api + "/capture/" + kind;
      const body = kind === "dismissals"
        ? { member, draft_id: Number(form.dataset.draft) }
        : { member, capture: form.dataset.captureValue === "on" };
      const prepared = await app.api("POST", path + "/prepare", body);
      const signature = await wallet.request({
        method: "eth_signTypedData_v4", params: [member, JSON.stringify(prepared.typed_data)],
      });
      await app.api("POST", path, { typed_data: prepared.typed_data, signature });
      if (kind === "dismissals") {
        const card = form.closest("li");
        card.replaceChildren(Object.assign(document.createElement("p"), {
          className: "done", textContent: window.CommonsI18n._("Dismissed: this draft will not be shown to you again."),
        }));
      } else {
        location.reload();
      }
    } catch (error) {
      app.showProblem(form, app.explained(error, app.passkey()));
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target.closest && event.target.closest("form.capture-signed");
    if (!form) return;
    event.preventDefault();
    send(form);
  });
})();
