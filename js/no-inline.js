// What `#inline/*.wasm` resolves to outside Node (see loader.js and package.json "imports"):
// nothing, so that browser and worker bundles never carry a base64 copy of a .wasm.
export default undefined;
