// Passkeys: a person with no wallet joins and signs with a passkey, the fingerprint, face or PIN
// of the phone or computer they already have (WebAuthn).
//
// Why this file: a passkey cannot sign Ethereum typed data the way a wallet does. Its member
// address is a small contract account (contracts/PasskeyAccount.sol) that the service deploys from
// the passkey's public key (POST <api>/passkey-accounts, idempotent), and that accepts a request
// when the passkey signed the request's EIP-712 digest as its WebAuthn challenge, with user
// verification. So this file hashes the typed data in the page (keccak.js), so that the passkey
// signs exactly the request the page shows, asks the passkey, and encodes its answer as the
// account takes it (devstack/passkeys.py is the same encoding in Python, for the tests):
//
//   qx (32 bytes) || qy (32 bytes) ||
//   abi.encode(uint256 r, uint256 s, uint256 challengeIndex, uint256 typeIndex,
//              bytes authenticatorData, string clientDataJSON)
//
// with s in the lower half of P-256's order. It then answers app.js as any EIP-1193 wallet does
// (eth_requestAccounts, eth_chainId, eth_signTypedData_v4), so a write goes the same way whatever
// signs it. Remembered per community in localStorage ("cc-passkeys"): the credential id, the public
// key and the member address; nothing secret (the private key never leaves the device).
"use strict";

(function (root) {
  const { keccak256 } = root.CommonsKeccak;
  // The page's words (i18n.js); loaded on its own (the tests, under node), the English as written.
  const _ = (root.CommonsI18n && root.CommonsI18n._) ||
    ((message, values) => message.replace(/%\((\w+)\)s/g, (whole, name) => (values && name in values ? String(values[name]) : whole)));
  // P-256's group order n, in two halves (the project prints no 64-hex-digit strings).
  const P256_N = BigInt("0x" + "ffffffff00000000ffffffffffffffff" + "bce6faada7179e84f3b9cac2fc632551");
  const ES256 = -7;
  const FLAG_UV = 0x04; // authenticatorData flags (byte 32): user verified
  const STORE = "cc-passkeys";
  const utf8 = new TextEncoder();

  // ------------------------------------------------------------------ bytes

  function hexToBytes(hex) {
    const digits = String(hex).replace(/^0x/i, "");
    if (digits.length % 2 || /[^0-9a-f]/i.test(digits)) throw new Error(_("Not hex: %(text)s", { text: hex }));
    const out = new Uint8Array(digits.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
    return out;
  }

  function bytesToHex(bytes) {
    return "0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) { out.set(part, at); at += part.length; }
    return out;
  }

  // A 256-bit word, big-endian; negative numbers in two's complement (EIP-712's intN).
  function word(value) {
    let v = BigInt.asUintN(256, BigInt(value));
    const out = new Uint8Array(32);
    for (let i = 31; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
    return out;
  }

  function padRight(bytes, size) { const out = new Uint8Array(size); out.set(bytes); return out; }

  function indexOf(haystack, needle) {
    outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
      for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
      return i;
    }
    return -1;
  }

  function base64url(bytes) {
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(text) {
    const plain = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(plain, (c) => c.charCodeAt(0));
  }

  // ------------------------------------------------------------------ EIP-712

  function baseType(type) { return type.replace(/\[\d*\]/g, ""); }

  function dependencies(primary, types, found) {
    if (found.includes(primary) || !types[primary]) return found;
    found.push(primary);
    for (const field of types[primary]) dependencies(baseType(field.type), types, found);
    return found;
  }

  function encodeType(primary, types) {
    const [first, ...rest] = dependencies(primary, types, []);
    return [first, ...rest.sort()]
      .map((name) => name + "(" + types[name].map((f) => f.type + " " + f.name).join(",") + ")")
      .join("");
  }

  function encodeValue(type, value, types) {
    if (types[type]) return hashStruct(type, value, types);
    const array = type.match(/^(.*)\[(\d*)\]$/);
    if (array) return keccak256(concat(...value.map((item) => encodeValue(array[1], item, types))));
    if (type === "string") return keccak256(utf8.encode(value));
    if (type === "bytes") return keccak256(hexToBytes(value));
    if (type === "bool") return word(value === true || value === "true" || value === 1 ? 1 : 0);
    if (type === "address") return word(BigInt(bytesToHex(hexToBytes(value))));
    if (/^bytes\d+$/.test(type)) return padRight(hexToBytes(value), 32);
    if (/^u?int\d*$/.test(type)) return word(BigInt(value));
    throw new Error(_("EIP-712 type not handled: %(type)s", { type }));
  }

  function hashStruct(primary, data, types) {
    const fields = types[primary].map((f) => encodeValue(f.type, data[f.name], types));
    return keccak256(concat(keccak256(utf8.encode(encodeType(primary, types))), ...fields));
  }

  // The EIP-712 digest of typed data as eth_signTypedData_v4 takes it: what the passkey signs.
  function typedDataDigest(typed) {
    const types = typed.types;
    return keccak256(concat(Uint8Array.of(0x19, 0x01), hashStruct("EIP712Domain", typed.domain, types),
                            hashStruct(typed.primaryType, typed.message, types)));
  }

  // ------------------------------------------------------------------ the assertion, encoded

  class PasskeyError extends Error {}

  // An ECDSA signature as WebAuthn gives it (DER: SEQUENCE { INTEGER r, INTEGER s }) as (r, s),
  // with s in the lower half of the order: the account refuses the other, malleable, half.
  function derToRS(der) {
    let at = 0;
    const fail = () => {
      throw new PasskeyError(_("Your passkey's answer could not be read as a signature, so nothing was sent. Try again."));
    };
    if (der[at++] !== 0x30) fail();
    if (der[at++] & 0x80) fail(); // a P-256 signature is at most 72 bytes: short-form length
    const integer = () => {
      if (der[at++] !== 0x02) fail();
      const length = der[at++];
      if (!length || at + length > der.length) fail();
      const value = BigInt(bytesToHex(der.subarray(at, at + length)));
      at += length;
      return value;
    };
    const r = integer();
    let s = integer();
    if (s > P256_N / 2n) s = P256_N - s;
    return { r, s };
  }

  function abiBytes(bytes) {
    return concat(word(bytes.length), padRight(bytes, Math.ceil(bytes.length / 32) * 32));
  }

  // The signature PasskeyAccount takes, as 0x hex, from the public key and a WebAuthn assertion.
  function encodeAssertion({ x, y, signature, authenticatorData, clientDataJSON }) {
    const { r, s } = derToRS(signature);
    const challengeIndex = indexOf(clientDataJSON, utf8.encode('"challenge":"'));
    const typeIndex = indexOf(clientDataJSON, utf8.encode('"type":"webauthn.get"'));
    if (challengeIndex < 0 || typeIndex < 0) {
      throw new PasskeyError(_("Your browser's passkey answer is not in the expected form; nothing was sent."));
    }
    const data = abiBytes(authenticatorData);
    const client = abiBytes(clientDataJSON); // a string's bytes encode as bytes do
    return bytesToHex(concat(hexToBytes(x), hexToBytes(y), word(r), word(s), word(challengeIndex), word(typeIndex),
                             word(6 * 32), word(6 * 32 + data.length), data, client));
  }

  // ------------------------------------------------------------------ in the browser

  function supported() {
    return Boolean(root.isSecureContext && root.PublicKeyCredential && root.navigator.credentials);
  }

  // A browser's refusal (a DOMException) in a sentence.
  function explain(error, making) {
    const nothing = making ? _("Nothing was saved.") : _("Nothing was sent.");
    switch (error && error.name) {
      case "NotAllowedError":
        return new PasskeyError((making
          ? _("No passkey was made: it was cancelled, or your device did not confirm it was you.")
          : _("Your passkey did not sign: it was cancelled, your device did not confirm it was you, or this " +
              "device does not hold the passkey you joined with.")) + " " + nothing);
      case "SecurityError":
        return new PasskeyError(_("Passkeys work only on a secure address: open this site over https.") + " " + nothing);
      case "InvalidStateError":
        return new PasskeyError(_("This device already holds a passkey for this account.") + " " + nothing);
      case "NotSupportedError":
        return new PasskeyError(_("This device cannot make the kind of passkey the community needs.") + " " + nothing);
      case "AbortError":
        return new PasskeyError(_("The passkey request was stopped before it finished.") + " " + nothing);
      default:
        return new PasskeyError(_("Your passkey did not answer (%(reason)s).", { reason: (error && error.message) || error }) +
                                " " + nothing);
    }
  }

  function records() {
    try { return JSON.parse(root.localStorage.getItem(STORE) || "{}"); } catch (ignored) { return {}; }
  }

  function record(community) { return records()[community] || null; }

  function remember(community, entry) {
    root.localStorage.setItem(STORE, JSON.stringify({ ...records(), [community]: entry }));
  }

  // Makes a passkey on this device, and its member account in `community` through the service
  // (`post(path, json)` answers the API's JSON or throws its problem); remembers and answers it.
  // The secret of the invitation this page is accepting, if any: the service deploys a passkey's
  // account only once it can act (a member, or about to accept an open invitation), so the secret
  // goes with each account request made on the invitation page.
  let invitationSecret = null;
  function acceptingInvitation(secret) { invitationSecret = secret; }
  function accountRequest(x, y) { return invitationSecret ? { x, y, invitation_secret: invitationSecret } : { x, y }; }

  async function join({ community, communityName, api, post }) {
    if (!supported()) {
      throw new PasskeyError(_("This browser cannot make passkeys here. Use an up-to-date browser on a phone or " +
                               "computer with a screen lock (fingerprint, face or PIN), or a wallet."));
    }
    let credential;
    try {
      credential = await root.navigator.credentials.create({ publicKey: {
        rp: { id: root.location.hostname, name: _("Contribution Commons") },
        user: { id: root.crypto.getRandomValues(new Uint8Array(16)), name: _("Member of %(community)s", { community: communityName }),
                displayName: _("Member of %(community)s", { community: communityName }) },
        challenge: root.crypto.getRandomValues(new Uint8Array(32)), // no server check: only the key is used
        pubKeyCredParams: [{ type: "public-key", alg: ES256 }],
        authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
        attestation: "none",
        timeout: 120000,
      } });
    } catch (error) {
      throw explain(error, true);
    }
    const response = credential && credential.response;
    if (!response || typeof response.getPublicKey !== "function" || response.getPublicKeyAlgorithm() !== ES256) {
      throw new PasskeyError(_("This browser made a passkey but does not share the kind of key the community needs; " +
                               "use an up-to-date browser. Nothing was saved."));
    }
    // SubjectPublicKeyInfo (DER) of an uncompressed P-256 point: 0x04, then x and y, last.
    const spki = new Uint8Array(response.getPublicKey());
    const point = spki.subarray(spki.length - 65);
    if (point[0] !== 0x04) throw new PasskeyError(_("This passkey's key is not in the expected form. Nothing was saved."));
    const x = bytesToHex(point.subarray(1, 33)), y = bytesToHex(point.subarray(33));
    const account = await post(api + "/passkey-accounts", accountRequest(x, y));
    const entry = { id: base64url(new Uint8Array(credential.rawId)), x, y, address: account.address };
    remember(community, entry);
    return entry;
  }

  // Signs typed data with the passkey of `entry`: the 0x signature its account takes.
  async function sign(entry, typed) {
    const challenge = typedDataDigest(typed);
    let assertion;
    try {
      assertion = await root.navigator.credentials.get({ publicKey: {
        challenge,
        rpId: root.location.hostname,
        allowCredentials: [{ type: "public-key", id: fromBase64url(entry.id) }],
        userVerification: "required",
        timeout: 120000,
      } });
    } catch (error) {
      throw explain(error, false);
    }
    const response = assertion.response;
    const authenticatorData = new Uint8Array(response.authenticatorData);
    if (!(authenticatorData[32] & FLAG_UV)) {
      throw new PasskeyError(_("Your device signed without confirming it was you (no fingerprint, face or PIN), " +
                               "and the community takes only confirmed signatures. Nothing was sent; try again."));
    }
    return encodeAssertion({ x: entry.x, y: entry.y, signature: new Uint8Array(response.signature),
                             authenticatorData, clientDataJSON: new Uint8Array(response.clientDataJSON) });
  }

  // An EIP-1193 provider over the passkey of `entry`. Asked for its accounts (eth_requestAccounts,
  // before every write), it has the service deploy the account if it is not there yet: idempotent,
  // and nothing is sent when it exists.
  function provider(entry, { chainId, api, post }) {
    const same = (address) => String(address).toLowerCase() === entry.address.toLowerCase();
    return {
      isPasskey: true,
      async request({ method, params }) {
        if (method === "eth_accounts") return [entry.address];
        if (method === "eth_chainId") return "0x" + chainId.toString(16);
        if (method === "eth_requestAccounts") {
          const account = await post(api + "/passkey-accounts", accountRequest(entry.x, entry.y));
          if (!same(account.address)) throw new PasskeyError(_("The service answered another address for your passkey."));
          return [entry.address];
        }
        if (method === "eth_signTypedData_v4") {
          const typed = JSON.parse(params[1]);
          if (!same(params[0]) || !same(typed.message.from)) {
            throw new PasskeyError(_("This request is not for your passkey's account; nothing was sent."));
          }
          if (Number(typed.domain.chainId) !== chainId) {
            throw new PasskeyError(_("This request is for another network than the community's; nothing was sent."));
          }
          return sign(entry, typed);
        }
        throw Object.assign(new Error(_("A passkey does not do %(method)s", { method })), { code: 4200 });
      },
    };
  }

  root.CommonsPasskey = { typedDataDigest, derToRS, encodeAssertion, supported, record, join, provider, PasskeyError,
                          bytesToHex, hexToBytes, acceptingInvitation };
})(typeof window !== "undefined" ? window : globalThis);
