// Keccak-256 (Ethereum's hash: the original Keccak padding, not FIPS 202's SHA3-256), for the
// passkey signer (passkey.js), which hashes a request's EIP-712 typed data in the page so that the
// passkey signs exactly what the page shows.
//
// Written for this project rather than fetched: the pages load nothing from another host (the
// Content-Security-Policy allows none) and have no build step. Lanes are BigInts: slower than
// 32-bit halves, but short and plain, and a request's digest is a handful of small hashes (well
// under a millisecond). Checked against eth_utils.keccak over many lengths in
// tests/backend/test_passkey_js.py.
"use strict";

(function (root) {
  const MASK = (1n << 64n) - 1n;
  const RATE = 136; // bytes absorbed per permutation: 1600 - 2 * 256 bits
  // Round constants, and each lane's rotation, indexed x + 5y (Keccak reference, "Keccak-f[1600]").
  const RC = [
    0x0000000000000001n, 0x0000000000008082n, 0x800000000000808an, 0x8000000080008000n,
    0x000000000000808bn, 0x0000000080000001n, 0x8000000080008081n, 0x8000000000008009n,
    0x000000000000008an, 0x0000000000000088n, 0x0000000080008009n, 0x000000008000000an,
    0x000000008000808bn, 0x800000000000008bn, 0x8000000000008089n, 0x8000000000008003n,
    0x8000000000008002n, 0x8000000000000080n, 0x000000000000800an, 0x800000008000000an,
    0x8000000080008081n, 0x8000000000008080n, 0x0000000080000001n, 0x8000000080008008n,
  ];
  const ROTATION = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14]
    .map(BigInt);

  function rotl(v, n) { return n === 0n ? v : ((v << n) | (v >> (64n - n))) & MASK; }

  function permute(a) {
    const c = new Array(5), b = new Array(25);
    for (const rc of RC) {
      for (let x = 0; x < 5; x++) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20]; // theta
      for (let x = 0; x < 5; x++) {
        const d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1n);
        for (let y = 0; y < 25; y += 5) a[x + y] ^= d;
      }
      for (let x = 0; x < 5; x++) { // rho and pi: lane (x, y) moves to (y, 2x + 3y)
        for (let y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y], ROTATION[x + 5 * y]);
      }
      for (let y = 0; y < 25; y += 5) { // chi
        for (let x = 0; x < 5; x++) a[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & MASK & b[(x + 2) % 5 + y]);
      }
      a[0] ^= rc; // iota
    }
  }

  // keccak256(Uint8Array) -> Uint8Array(32)
  function keccak256(bytes) {
    const padded = new Uint8Array((Math.floor(bytes.length / RATE) + 1) * RATE);
    padded.set(bytes);
    padded[bytes.length] ^= 0x01; // Keccak's padding: 0x01 ... 0x80 (SHA3 would put 0x06 first)
    padded[padded.length - 1] ^= 0x80;
    const state = new Array(25).fill(0n);
    for (let offset = 0; offset < padded.length; offset += RATE) {
      for (let i = 0; i < RATE / 8; i++) {
        let lane = 0n; // lanes are little-endian
        for (let j = 7; j >= 0; j--) lane = (lane << 8n) | BigInt(padded[offset + 8 * i + j]);
        state[i] ^= lane;
      }
      permute(state);
    }
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = Number((state[i >> 3] >> BigInt(8 * (i & 7))) & 0xffn);
    return out;
  }

  root.CommonsKeccak = { keccak256 };
})(typeof window !== "undefined" ? window : globalThis);
