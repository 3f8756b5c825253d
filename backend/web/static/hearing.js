// "How you hear" (templates/hearing.html): the member's choice of email, chat webhook and digest, signed off
// chain (EIP-712, backend/notifications) with the signer app.js connected, through what app.js shares
// (window.CommonsApp: the signer, the API client, refusals in words). Nothing goes on the chain.
"use strict";

(function () {
  const form = document.getElementById("hearing-form");
  if (!form) return;
  const saved = document.getElementById("hearing-saved");

  function line(text) { return Object.assign(document.createElement("p"), { textContent: text }); }

  function show(answer) {
    const parts = [line("Saved: this is how you will hear.")];
    if (answer.email && answer.email.active) {
      parts.push(line("Email to " + answer.email.target + (answer.email.mode === "daily" ? ", as a daily digest." : ", one for each thing that waits.")));
    }
    if (answer.webhook && answer.webhook.active) {
      parts.push(line("Chat webhook " + answer.webhook.target + (answer.webhook.mode === "daily" ? ", as a daily digest." : ", one message for each thing that waits.")));
    }
    if (answer.webhook_secret) {
      parts.push(line("Your webhook's secret, shown this once (give it to your bridge to check each message): "));
      parts.push(Object.assign(document.createElement("code"), { textContent: answer.webhook_secret, className: "secret" }));
    }
    const feed = Object.assign(document.createElement("a"), { href: answer.feeds.member, textContent: "your own feed" });
    const p = line("Follow ");
    p.append(feed, " in a feed reader (keep its link to yourself).");
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
