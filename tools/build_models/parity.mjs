// Run the ORIGINAL TF.js models on the parity inputs and write their outputs.
//
//   node parity.mjs <human-models pkg dir> <cases dir> <out dir>
//
// Must run from a directory whose node_modules holds the pinned @tensorflow/tfjs@4.22.0,
// @tensorflow/tfjs-backend-wasm@4.22.0 and @vladmandic/face-api@1.7.15 (build.sh copies this
// file there). Pure-JS CPU backend.
//
// - human-models (blazeface-front/back, faceres, facemesh): tf.loadGraphModel with an in-memory IO handler
//   built from the package's own (unpatched) model JSON + .bin.
// - dlib-resnet: face-api's own FaceRecognitionNet with weights decoded from the package's
//   manifest + shard by tf.io.decodeWeights, loaded with loadFromWeightMap, run with net.forward().
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

// CommonJS builds: face-api's node-wasm build requires the pinned '@tensorflow/tfjs' (same
// instance as ours) and registers the wasm backend, which we do not use: CPU backend only.
const require = createRequire(path.join(process.cwd(), 'package.json'));
const tf = require('@tensorflow/tfjs');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');

const [humanDir, casesDir, outDir] = process.argv.slice(2);
fs.mkdirSync(outDir, { recursive: true });
await tf.setBackend('cpu');
await tf.ready();

function readF32(file) {
  const buf = fs.readFileSync(file);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

async function loadHuman(name) {
  const dir = path.join(humanDir, 'models');
  const json = JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
  const specs = [];
  const bufs = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: specs,
      weightData,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
      userDefinedMetadata: json.userDefinedMetadata,
    }),
  });
}

async function loadFaceApiRecognition() {
  const dir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'face_recognition_model-weights_manifest.json'), 'utf8'));
  const net = new faceapi.FaceRecognitionNet();
  const weightMap = {};
  for (const group of manifest) {
    const all = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
    const ab = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
    Object.assign(weightMap, tf.io.decodeWeights(ab, group.weights));
  }
  net.loadFromWeightMap(weightMap);
  return net;
}

const cases = JSON.parse(fs.readFileSync(path.join(casesDir, 'inputs.json'), 'utf8'));
const results = [];
const save = (c, outName, t) => {
  const data = t.dataSync();
  const fn = `${c.model}.${c.case}.${outName}.tfjs.bin`;
  fs.writeFileSync(path.join(outDir, fn), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  results.push({ model: c.model, case: c.case, output: outName, file: fn, shape: t.shape });
};

const models = {};
for (const c of cases) {
  const x = tf.tensor(readF32(path.join(casesDir, c.file)), c.shape, 'float32');
  const t0 = Date.now();
  if (c.model.startsWith('blazeface')) {
    models[c.model] ??= await loadHuman(c.model);
    // native outputs: Identity = classificators_1, Identity_1 = classificators_2,
    // Identity_2 = regressors_1, Identity_3 = regressors_2
    const [cls1, cls2, reg1, reg2] = models[c.model].execute(x, ['Identity', 'Identity_1', 'Identity_2', 'Identity_3']);
    save(c, 'scores_native1', cls1);
    save(c, 'scores_native2', cls2);
    save(c, 'regressors_native1', reg1);
    save(c, 'regressors_native2', reg2);
    save(c, 'scores', tf.concat([cls1, cls2], 1));
    save(c, 'regressors', tf.concat([reg1, reg2], 1));
  } else if (c.model === 'faceres') {
    models.faceres ??= await loadHuman('faceres');
    // the native model expects BGR minus the VGG mean; the ONNX graph does this itself
    const pre = tf.sub(tf.reverse(x, 3), tf.tensor1d([103.939, 116.779, 123.68]));
    save(c, 'embedding', models.faceres.execute(pre, 'global_pooling/Mean'));
  } else if (c.model === 'facemesh') {
    models.facemesh ??= await loadHuman('facemesh');
    // native outputs: Identity_2 = output_mesh [N,1404], Identity_1 = output_faceflag [N,1] (sigmoid)
    const [mesh, flag] = models.facemesh.execute(x, ['Identity_2', 'Identity_1']);
    save(c, 'landmarks', mesh);
    save(c, 'face_score', flag);
  } else if (c.model === 'dlib-resnet') {
    models.dlib ??= await loadFaceApiRecognition();
    const embs = [];
    for (let i = 0; i < c.shape[0]; i++) {
      // face-api's own forward(): NetInput -> toBatchTensor(150) -> normalise -> network
      const xi = tf.slice(x, [i, 0, 0, 0], [1, ...c.shape.slice(1)]);
      embs.push(await models.dlib.forward(xi));
    }
    save(c, 'embedding', tf.concat(embs, 0));
  }
  console.log(`${c.model} ${c.case}: ${Date.now() - t0} ms`);
}
fs.writeFileSync(path.join(outDir, 'tfjs_outputs.json'), JSON.stringify({ tfjs: tf.version.tfjs, faceapi: faceapi.version, backend: tf.getBackend(), results }, null, 1));
console.log(`wrote ${results.length} outputs to ${outDir}`);
