import { parentPort } from 'node:worker_threads';
import { DeviceFleetModel } from './device-model';
import { runBatch, type FromWorker, type ToWorker } from './device-side';

/** A worker thread holding a share of the bench's devices (device-side.ts `workerDevices`). */
let model: DeviceFleetModel | null = null;
const port = parentPort;
if (port === null) throw new Error('device-worker.ts runs as a worker thread');
port.on('message', (m: ToWorker) => {
  if (m.type === 'init') model = new DeviceFleetModel(m.spec);
  else if (model === null) throw new Error('device worker: message before init');
  else if (m.type === 'cost') port.postMessage({ type: 'cost', cost: { ...model.cost, verifyMicros: model.measureVerify() } } satisfies FromWorker);
  else port.postMessage({ type: 'answers', answers: runBatch(model, m) } satisfies FromWorker);
});
