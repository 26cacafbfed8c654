/* ONLIVE.SITE request signing for the docs page (Swagger UI "Try it out").
 *
 * The Authorize dialog asks, for the ONLIVE scheme, for an access key id and a secret access key (instead of a
 * ready Authorization value); a request interceptor then adds `x-onlive-site-date` and
 * `Authorization: ONLIVESITE Credential:<AccessKeyId>, Signature=<hex HMAC-SHA256>` over the canonical request of
 * bookingkit/signing.py:
 *
 *   METHOD \n path as sent \n canonical query \n x-onlive-site-date \n hex(sha256(body))
 *
 * The date is this browser's clock: a mock whose clock was shifted or frozen (admin API) refuses it (401).
 * Web Crypto (crypto.subtle) exists only in secure contexts: https, or http on localhost / 127.0.0.1.
 */
(function () {
  "use strict";

  const DATE_HEADER = "x-onlive-site-date";
  const encoder = new TextEncoder();
  const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  // Python's urllib.parse.unquote: runs of %XX decoded as UTF-8 (bad bytes become U+FFFD), the rest kept, "+" too.
  function unquote(text) {
    return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      const bytes = new Uint8Array(run.length / 3);
      for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(3 * i + 1, 3 * i + 3), 16);
      return new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
    });
  }

  // Python's urllib.parse.quote(text, safe="-._~"): RFC 3986 unreserved characters stay, every other byte is %XX.
  function quote(text) {
    return Array.from(encoder.encode(text), (byte) => {
      const character = String.fromCharCode(byte);
      return UNRESERVED.test(character) ? character : "%" + byte.toString(16).toUpperCase().padStart(2, "0");
    }).join("");
  }

  function canonicalQuery(rawQuery) {
    if (!rawQuery) return "";
    const pairs = rawQuery.split("&").map((part) => {
      const at = part.indexOf("=");
      const [name, value] = at < 0 ? [part, ""] : [part.slice(0, at), part.slice(at + 1)];
      return [quote(unquote(name)), quote(unquote(value))];
    });
    const order = (a, b) => (a < b ? -1 : a > b ? 1 : 0); // ASCII after quote: code-unit order is Python's
    pairs.sort((a, b) => order(a[0], b[0]) || order(a[1], b[1]));
    return pairs.map(([name, value]) => `${name}=${value}`).join("&");
  }

  function formatDate(moment) {
    return moment.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, ""); // YYYYMMDDTHHMMSSZ, UTC
  }

  async function bodyBytes(body) {
    if (body === undefined || body === null) return new Uint8Array(0);
    if (typeof body === "string") return encoder.encode(body);
    if (body instanceof ArrayBuffer) return new Uint8Array(body);
    if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    if (body instanceof Blob) return new Uint8Array(await body.arrayBuffer());
    if (body instanceof URLSearchParams) return encoder.encode(body.toString());
    throw new Error("This page cannot sign a multipart body; use `bookingkit sign` instead.");
  }

  function subtle() {
    if (!window.crypto || !window.crypto.subtle) {
      throw new Error(
        "Signing needs Web Crypto, which browsers give only to secure contexts: " +
          "open this page over https, or as http://localhost or http://127.0.0.1."
      );
    }
    return window.crypto.subtle;
  }

  async function canonicalRequest(method, path, rawQuery, date, body) {
    const digest = hex(await subtle().digest("SHA-256", await bodyBytes(body)));
    return [method.toUpperCase(), path, canonicalQuery(rawQuery), date, digest].join("\n");
  }

  async function signature(secret, canonical) {
    const algorithm = { name: "HMAC", hash: "SHA-256" };
    const key = await subtle().importKey("raw", encoder.encode(secret), algorithm, false, ["sign"]);
    return hex(await subtle().sign("HMAC", key, encoder.encode(canonical)));
  }

  // The headers for a request to `url` exactly as fetch sends it (the URL parser's path and query).
  async function sign({ method, url, body, accessKeyId, secret, now }) {
    const target = new URL(url, window.location.href);
    const date = formatDate(now || new Date());
    const canonical = await canonicalRequest(method, target.pathname, target.search.slice(1), date, body);
    const authorization = `ONLIVESITE Credential:${accessKeyId}, Signature=${await signature(secret, canonical)}`;
    return { date, authorization, canonical };
  }

  // The Swagger UI plugin and request interceptor for the security scheme named `scheme`. The dialog stores the
  // key id and secret as that scheme's value (JSON); Swagger UI puts the value in the Authorization header of the
  // scheme's operations, and the interceptor replaces it with the signed headers.
  function forScheme(scheme) {
    let getSystem = () => window.ui;
    let Form = null;

    function makeForm(React) {
      const h = React.createElement;
      return function OnliveCredentials(props) {
        const { name, schema, authorized, onChange, getComponent } = props;
        const Markdown = getComponent("Markdown", true);
        const stored = authorized && authorized.getIn([name, "value"]);
        const [fields, setFields] = React.useState({ accessKeyId: "", secret: "" });
        React.useEffect(() => { if (!stored) setFields({ accessKeyId: "", secret: "" }); }, [stored]); // logout
        const update = (field) => (event) => {
          const next = { ...fields, [field]: event.target.value };
          setFields(next);
          onChange({ name, schema, value: JSON.stringify(next) });
        };
        const field = (label, key, type) =>
          h("div", { className: "wrapper" }, h("label", null, label),
            h("input", { type, name: key, autoComplete: "off", onChange: update(key) }));
        return h("div", null,
          h("h4", null, h("code", null, name), " (access key, signed by this page)"),
          stored && h("h6", null, "Authorized"),
          h("div", { className: "wrapper" }, h(Markdown, { source: schema.get("description") })),
          stored
            ? h("p", null, "Access key id: ", h("code", null, JSON.parse(stored).accessKeyId))
            : h("div", null, field("Access key id:", "accessKeyId", "text"),
                field("Secret access key:", "secret", "password")));
      };
    }

    const plugin = () => ({
      wrapComponents: {
        apiKeyAuth: (Original, system) => (props) => {
          getSystem = system.getSystem;
          Form = Form || makeForm(system.React);
          return system.React.createElement(props.name === scheme ? Form : Original, props);
        },
      },
    });

    async function requestInterceptor(request) {
      const system = getSystem();
      const stored = system && system.authSelectors.authorized().getIn([scheme, "value"]);
      const headers = request.headers || {};
      const header = Object.keys(headers).find((name) => name.toLowerCase() === "authorization");
      if (!stored || !header || headers[header] !== stored) return request; // not an operation of the scheme
      const { accessKeyId, secret } = JSON.parse(stored);
      const signed = await sign({ method: request.method || "GET", url: request.url, body: request.body,
        accessKeyId, secret });
      headers[header] = signed.authorization;
      headers[DATE_HEADER] = signed.date;
      return request;
    }

    return { plugin, requestInterceptor };
  }

  window.OnliveSigning = { forScheme, sign, canonicalRequest, canonicalQuery, signature };
})();
