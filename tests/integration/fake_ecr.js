// A stand-in for the two AWS endpoints an ECR login talks to, for
// ecr_login_test.sh (started by start_fake_ecr in ecr.sh):
//
//   POST /  X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken
//           (JSON 1.1) answers {"authorizationData": [{"authorizationToken":
//           base64("AWS:" + password), "expiresAt", "proxyEndpoint"}]} when
//           the request's Signature Version 4 checks out, else AWS's errors
//           (403 InvalidSignatureException / UnrecognizedClientException, …).
//   GET  CONTAINER_PATH  the container credentials endpoint: answers
//           {AccessKeyId, SecretAccessKey, Token, Expiration} when the
//           Authorization header is the configured token, else 401.
//
// The signature is checked by an independent implementation, the npm
// package @aws-sdk/signature-v4 (NODE_PATH names where it is installed):
// the request is signed again with the secret the server knows, over the
// headers the client says it signed, and the two Authorization values must
// be equal. Secrets come in a JSON file (--config), never on the command
// line, and never reach the log (--log: one JSON line per request).
"use strict";

const fs = require("fs");
const http = require("http");
const { SignatureV4 } = require("@aws-sdk/signature-v4");
const { Sha256 } = require("@aws-crypto/sha256-js");

const TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";
const MAX_SKEW_MS = 15 * 60 * 1000;

function option(name) {
  const at = process.argv.indexOf(name);
  if (at < 0 || at + 1 >= process.argv.length) throw new Error(`missing ${name}`);
  return process.argv[at + 1];
}

// {region, password, registry, keys: {ID: {secret, token}},
//  container: {path, authorization, key}}
const config = JSON.parse(fs.readFileSync(option("--config"), "utf8"));
const logFile = option("--log");

function log(entry) {
  fs.appendFileSync(logFile, JSON.stringify(entry) + "\n");
}

function answer(res, status, body, entry) {
  log({ ...entry, status });
  res.writeHead(status, { "Content-Type": "application/x-amz-json-1.1" });
  res.end(JSON.stringify(body));
}

function awsError(res, status, type, message, entry) {
  res.setHeader("x-amzn-ErrorType", `${type}:http://internal.amazon.com/coral/`);
  answer(res, status, { __type: type, message }, { ...entry, error: type });
}

// "AWS4-HMAC-SHA256 Credential=ID/DATE/REGION/SERVICE/aws4_request,
// SignedHeaders=a;b, Signature=HEX" → its parts, or null.
function parseAuthorization(value) {
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(value || "");
  if (!match) return null;
  const [, keyId, date, region, service, signedHeaders, signature] = match;
  return { keyId, date, region, service, signedHeaders: signedHeaders.split(";"), signature };
}

// "20150830T123600Z" → Date, or null.
function parseAmzDate(text) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text || "");
  return m ? new Date(Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
}

async function getAuthorizationToken(req, res, body, entry) {
  const auth = parseAuthorization(req.headers.authorization);
  if (!auth) return awsError(res, 403, "MissingAuthenticationTokenException", "Missing Authentication Token", entry);
  entry.signedHeaders = auth.signedHeaders.join(";");
  entry.tokenSent = "x-amz-security-token" in req.headers;
  entry.keyId = auth.keyId;
  const key = config.keys[auth.keyId];
  if (!key || (key.token && req.headers["x-amz-security-token"] !== key.token)) {
    return awsError(res, 403, "UnrecognizedClientException", "The security token included in the request is invalid.", entry);
  }
  if (auth.region !== config.region) {
    return awsError(res, 403, "InvalidSignatureException",
      `Credential should be scoped to a valid region, not '${auth.region}'.`, entry);
  }
  if (auth.service !== "ecr") {
    return awsError(res, 403, "InvalidSignatureException", "Credential should be scoped to correct service: 'ecr'.", entry);
  }
  const date = parseAmzDate(req.headers["x-amz-date"]);
  if (!date || Math.abs(Date.now() - date.getTime()) > MAX_SKEW_MS) {
    return awsError(res, 403, "InvalidSignatureException", "Signature expired: the request time is more than 15 minutes away from now.", entry);
  }
  for (const needed of ["host", "x-amz-date", "x-amz-target", "content-type"]) {
    if (!auth.signedHeaders.includes(needed)) {
      return awsError(res, 403, "InvalidSignatureException", `'${needed}' must be a signed header.`, entry);
    }
  }
  const headers = {};
  for (const name of auth.signedHeaders) {
    if (req.headers[name] === undefined) {
      return awsError(res, 403, "InvalidSignatureException", `The signed header '${name}' is missing.`, entry);
    }
    headers[name] = req.headers[name];
  }
  const [pathname, query] = req.url.split("?", 2);
  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.keyId, secretAccessKey: key.secret, sessionToken: key.token || undefined },
    region: config.region,
    service: "ecr",
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: "http:",
      hostname: req.headers.host,
      path: pathname,
      query: Object.fromEntries(new URLSearchParams(query || "")),
      headers,
      body,
    },
    { signingDate: date },
  );
  if (signed.headers.authorization !== req.headers.authorization) {
    return awsError(res, 403, "InvalidSignatureException",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.", entry);
  }
  if (req.headers["x-amz-target"] !== TARGET) {
    return awsError(res, 400, "UnknownOperationException", "", entry);
  }
  if (req.headers["content-type"] !== "application/x-amz-json-1.1") {
    return awsError(res, 400, "SerializationException", "Start of structure or map found where not expected.", entry);
  }
  let input;
  try {
    input = JSON.parse(body);
  } catch {
    input = null;
  }
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    return awsError(res, 400, "SerializationException", "Unexpected request body.", entry);
  }
  const token = Buffer.from(`AWS:${config.password}`).toString("base64");
  answer(res, 200, {
    authorizationData: [{
      authorizationToken: token,
      expiresAt: Math.floor(Date.now() / 1000) + 12 * 3600,
      proxyEndpoint: `https://${config.registry}`,
    }],
  }, entry);
}

function containerCredentials(req, res, entry) {
  const container = config.container;
  if (req.headers.authorization !== container.authorization) {
    log({ ...entry, status: 401, error: "bad authorization" });
    res.writeHead(401, { "Content-Type": "application/json" });
    return res.end(JSON.stringify({ code: "InvalidToken", message: "invalid authorization token" }));
  }
  const key = config.keys[container.key];
  log({ ...entry, status: 200 });
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify({
    AccessKeyId: container.key,
    SecretAccessKey: key.secret,
    Token: key.token,
    Expiration: new Date(Date.now() + 3600 * 1000).toISOString(),
    RoleArn: "arn:aws:iam::123456789012:role/polyarch-test",
  }));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const entry = { method: req.method, path: req.url.split("?")[0], target: req.headers["x-amz-target"] || "" };
    if (req.method === "GET" && req.url === config.container.path) return containerCredentials(req, res, entry);
    if (req.method === "POST" && req.headers["x-amz-target"]) {
      return getAuthorizationToken(req, res, body, entry).catch((error) => {
        awsError(res, 500, "InternalFailure", String(error && error.message), entry);
      });
    }
    log({ ...entry, status: 404 });
    res.writeHead(404);
    res.end();
  });
});

server.listen(0, "127.0.0.1", () => {
  console.log(`listening on 127.0.0.1:${server.address().port}`);
});
