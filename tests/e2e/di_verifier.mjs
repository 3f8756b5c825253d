// An independent verifier for the tests, in node, with none of the service's code: Digital
// Bazaar's libraries, the ones behind the Digital Credentials Consortium's verifier and the
// Learner Credential Wallet (npm devDependencies, package.json):
// - a Data Integrity proof (eddsa-rdfc-2022): @digitalbazaar/vc's verifyCredential with
//   @digitalbazaar/data-integrity and @digitalbazaar/eddsa-rdfc-2022-cryptosuite (jsonld.js and
//   rdf-canonize underneath, in safe mode), the key read by @digitalbazaar/ed25519-multikey;
// - the revocation bit: @digitalbazaar/vc-bitstring-status-list's checkStatus, the status list
//   fetched as the DCC's loader fetches it (Accept: application/ld+json, application/json) and its
//   own proof verified;
// - an ES256 JWT: `jose` (panva), the key taken from the issuer's did:web document.
//
// Nothing is fetched from anywhere but the service under test: its /contexts map says where it
// serves each JSON-LD context, did:web is resolved by its rule (over http for 127.0.0.1), and any
// other URL fails, as it would offline.
//
// Input (stdin, JSON): {"service": "http://127.0.0.1:PORT", "now": "<ISO date>",
//   "credentials": [<credential with a proof>...], "jwts": ["<compact JWS>"...],
//   "skipStatus": false (true: the status list is not read, "status" is null)}
// Output (stdout, JSON): {"credentials": [{"verified", "accepted", "error", "status"}...],
//   "jwts": [{"verified", "error", "header", "payload"}...]}

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import * as jose from 'jose';

const input = JSON.parse(await new Promise(resolve => {
  let text = '';
  process.stdin.on('data', chunk => text += chunk);
  process.stdin.on('end', () => resolve(text));
}));
const service = new URL(input.service);

async function fetchJson(url, accept = 'application/ld+json, application/json') {
  const target = new URL(url);
  if(target.host !== service.host) {
    throw new Error(`no network: ${url} is not the service under test`);
  }
  const response = await fetch(target, {headers: {Accept: accept}});
  if(!response.ok) {
    throw new Error(`${url}: HTTP ${response.status}`);
  }
  return response.json();
}

// did:web's rule: host (port percent-encoded), then path segments; http for the local service.
function didWebUrl(did) {
  const [host, ...path] = did.slice('did:web:'.length).split(':');
  const base = `http://${decodeURIComponent(host)}`;
  return path.length ? `${base}/${path.join('/')}/did.json` : `${base}/.well-known/did.json`;
}

const contexts = (await fetchJson(new URL('/contexts', service), 'application/json')).contexts;
const loaded = {contexts: new Set(), dids: new Set(), other: new Set()};

async function documentLoader(url) {
  if(url in contexts) {
    loaded.contexts.add(url);
    return {contextUrl: null, documentUrl: url, document: await fetchJson(contexts[url])};
  }
  if(url.startsWith('did:web:')) {
    const [did, fragment] = url.split('#');
    const document = await fetchJson(didWebUrl(did), 'application/did+json, application/json');
    if(document.id !== did) {
      throw new Error(`the DID document of ${did} names ${document.id}`);
    }
    loaded.dids.add(did);
    if(fragment === undefined) {
      return {contextUrl: null, documentUrl: url, document};
    }
    const method = (document.verificationMethod || []).find(m => m.id === url);
    if(!method) {
      throw new Error(`${url} is not in its DID document`);
    }
    return {contextUrl: null, documentUrl: url, document: {'@context': document['@context'], ...method}};
  }
  // A status list, fetched as the DCC verifier's loader fetches it.
  loaded.other.add(url);
  return {contextUrl: null, documentUrl: url, document: await fetchJson(url)};
}

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
const now = input.now ? new Date(input.now) : new Date();

function describe(error) {
  if(!error) {
    return null;
  }
  const errors = Array.isArray(error) ? error : (error.errors || [error]);
  return errors.map(e => `${e.name}: ${e.message}`).join('; ');
}

async function verifyDataIntegrity(credential) {
  let statusList = null;
  const result = await vc.verifyCredential({
    credential,
    suite,
    documentLoader,
    now,
    // One second: the library's comparison counts a time equal to `now` as outside the validity
    // period when the skew is 0 (a credential minted in the chain's latest block).
    maxClockSkew: 1,
    async checkStatus({credential}) {
      if(input.skipStatus) {
        // Asked for a credential at a past `now`, before the status list's own date: no list
        // then. Said in the output (status null), never taken as a standing credential's bit.
        return {verified: true};
      }
      // The bit, as the library reads it; the list's own proof is checked below at the chain's
      // `now` (the library would check it against the wall clock, and the chain's clock runs
      // ahead of it once a test skips time), with the library's usual clock skew (a list is dated
      // by the index's latest block: `now` itself).
      const status = await checkStatus({
        credential, documentLoader, suite, verifyBitstringStatusListCredential: false
      });
      if(status.verified) {
        const listUrl = credential.credentialStatus.statusListCredential;
        const {document: list} = await documentLoader(listUrl);
        const listResult = await vc.verifyCredential({credential: list, suite, documentLoader, now});
        if(!listResult.verified) {
          return {verified: false, error: new Error(
            `the status list's proof: ${describe(listResult.error)}`)};
        }
        statusList = {status: status.results[0].status};
      }
      return status;
    }
  });
  const status = statusList ? statusList.status : null;
  return {
    // The proof, the dates and the status check all passed...
    verified: result.verified,
    // ...and the credential stands: not revoked (its status bit is not set).
    accepted: result.verified && status !== true,
    error: describe(result.error) ||
      (result.statusResult && describe(result.statusResult.error)) || null,
    status
  };
}

async function verifyJwt(token) {
  try {
    const header = jose.decodeProtectedHeader(token);
    const [did] = header.kid.split('#');
    const {document} = await documentLoader(did);
    if(!document.assertionMethod.includes(header.kid)) {
      throw new Error(`${header.kid} may not assert credentials`);
    }
    const method = document.verificationMethod.find(m => m.id === header.kid);
    // The key is the DID document's; the header's `jwk` must be the same key, and is not trusted.
    if(header.jwk && JSON.stringify(header.jwk) !== JSON.stringify(method.publicKeyJwk)) {
      throw new Error('the header\'s jwk is not the key of its kid');
    }
    const key = await jose.importJWK(method.publicKeyJwk, 'ES256');
    const {payload, protectedHeader} = await jose.jwtVerify(token, key, {
      algorithms: ['ES256'], issuer: did, currentDate: now, clockTolerance: 0
    });
    return {verified: true, error: null, header: protectedHeader, payload};
  } catch(error) {
    return {verified: false, error: `${error.code || error.name}: ${error.message}`};
  }
}

const output = {credentials: [], jwts: []};
for(const credential of input.credentials || []) {
  output.credentials.push(await verifyDataIntegrity(credential));
}
for(const token of input.jwts || []) {
  output.jwts.push(await verifyJwt(token));
}
output.loaded = {
  contexts: [...loaded.contexts].sort(), dids: [...loaded.dids].sort(), other: [...loaded.other].sort()
};
process.stdout.write(JSON.stringify(output));
