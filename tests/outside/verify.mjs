// Verifies one credential with the Digital Credentials Consortium's verifier-core, offline.
//
// Reads {"credential": {...}, "origins": {"https://public.host": "http://127.0.0.1:PORT"},
// "files": {"https://url": "/path/to/local/file"}} on stdin and prints verifier-core's result as JSON.
//
// verifier-core builds its JSON-LD document loader itself (the DCC's security-document-loader: the
// VC 2.0, Data Integrity, status list and Open Badges contexts built in, did:key resolved locally,
// did:web and other URLs fetched over HTTP). Its HTTP goes through the global fetch, so this harness
// replaces fetch before loading it: URLs of the platform's public origin go to the platform under
// test on this machine, the files named are served from disk (1EdTech's schema, if given), and any
// other request fails, so nothing leaves the machine.
import { readFileSync } from 'node:fs';

const input = JSON.parse(readFileSync(0, 'utf8'));
const origins = input.origins || {};
const files = input.files || {};
const realFetch = globalThis.fetch;
const requested = [];

globalThis.fetch = async (resource, init) => {
  const url = typeof resource === 'string' ? resource : resource.url || String(resource);
  requested.push(url);
  if (files[url]) {
    return new Response(readFileSync(files[url]), { status: 200, headers: { 'content-type': 'application/json' } });
  }
  for (const [origin, local] of Object.entries(origins)) {
    if (url === origin || url.startsWith(origin + '/')) {
      const target = local + url.slice(origin.length);
      const headers = new Headers(init?.headers || (typeof resource === 'object' ? resource.headers : undefined));
      return realFetch(target, { method: init?.method || 'GET', headers });
    }
  }
  throw new TypeError(`offline: no route for ${url}`);
};

const { verifyCredential } = await import('@digitalcredentials/verifier-core');
const result = await verifyCredential({ credential: input.credential, knownDIDRegistries: [] });
for (const error of result.errors || []) {
  if (error.stackTrace) error.stackTrace = String(error.stackTrace).slice(0, 2000);
}
delete result.credential;
process.stdout.write(JSON.stringify({ result, requested }) + '\n');
