// A module Web Worker that runs functions sent by tests/js/engines.js (`page.worker()`), so a
// test runs the same code in a page and in a worker of every engine. Results go back as JSON.
self.onmessage = async ({ data: { call, src, arg } }) => {
  let result;
  try {
    const fn = (0, eval)(`(${src})`);
    result = JSON.stringify({ ok: true, value: await fn(arg) });
  } catch (e) {
    result = JSON.stringify({ ok: false, error: String(e?.stack && String(e.stack).includes(String(e.message)) ? e.stack : e) });
  }
  self.postMessage({ call, result });
};
self.postMessage({ ready: true });
