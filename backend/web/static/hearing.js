// "How you hear" (templates/hearing.html): the member's choice of email, chat webhook and digest, signed off
// chain (EIP-712, backend/notifications) with the signer app.js connected, through what app.js shares
// (window.CommonsApp: the signer, the API client, refusals in words). Nothing goes on the chain.
"use strict";

(function () {
  const form = document.getElementById("hearing-form");
  if (!form) return;
  const saved = document.getElementById("hearing-saved");
  const { _ } = window.CommonsI18n;

  function line(text) { return Object.assign(document.createElement("p"), { textContent: text }); }

  function show(answer) {
    const parts = [line(_("Saved: this is how you will hear."))];
    if (answer.email && answer.email.active) {
      const target = answer.email.target;
      parts.push(line(answer.email.mode === "daily" ? _("Email to %(target)s, as a daily digest.", { target })
        : _("Email to %(target)s, one for each thing that waits.", { target })));
    }
    if (answer.webhook && answer.webhook.active) {
      const target = answer.webhook.target;
      parts.push(line(answer.webhook.mode === "daily" ? _("Chat webhook %(target)s, as a daily digest.", { target })
        : _("Chat webhook %(target)s, one message for each thing that waits.", { target })));
    }
    if (answer.webhook_secret) {
      parts.push(line(_("Your webhook's secret, shown this once (give it to your bridge to check each message):") + " "));
      parts.push(Object.assign(document.createElement("code"), { textContent: answer.webhook_secret, className: "secret" }));
    }
    // "Follow your own feed in a feed reader": the sentence, its link where the translation puts it.
    const feed = Object.assign(document.createElement("a"), { href: answer.feeds.member, textContent: _("your own feed") });
    const p = document.createElement("p");
    const [before, after] = _("Follow %(feed)s in a feed reader (keep its link to yourself).").split("%(feed)s");
    p.append(before, feed, after || "");
    parts.push(p);
    saved.replaceChildren(...parts);
    saved.hidden = false;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const app = window.CommonsApp;
    if (!app) return;
    const button = form.querySelector("button[type=submit]");
    app.clearErrors(form);
    saved.hidden = true;
    button.disabled = true;
    try {
      const wallet = app.provider();
      const member = await app.account(wallet, true);
      await app.ensureChain(wallet);
      const path = document.body.dataset.api + "/notifications";
      const fields = Object.fromEntries(new FormData(form));
      const prepared = await app.api("POST", path + "/prepare", { member, ...fields });
      const signature = await wallet.request({
        method: "eth_signTypedData_v4", params: [member, JSON.stringify(prepared.typed_data)],
      });
      show(await app.api("POST", path, { typed_data: prepared.typed_data, signature }));
    } catch (error) {
      app.showProblem(form, app.explained(error, app.passkey()));
    } finally {
      button.disabled = false;
    }
  });
})();
