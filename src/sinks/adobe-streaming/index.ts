/** The adobe-streaming sink: DCS batch streaming of XDM envelopes. */
export { AdobeStreamingSink, realClock, type AdobeStreamingDeps, type SinkClock } from './sink.js';
export {
  adobeStreamingConfigSchema,
  resolveStreamingConfig,
  checkRouting,
  envelopeConfigProperties,
  XDM_FULL_CONTENT_TYPE,
  DCS_MAX_REQUEST_BYTES,
  type AdobeStreamingConfig,
  type ResolvedStreamingConfig,
  type EnvelopeConfig,
  type DatasetTarget,
  type SchemaRefConfig,
} from './config.js';
export { EnvelopeEncoder, envelopeText, writeBatchBody, BodyBuffers, batchBytes, planBatches, fitsAlone, BATCH_OVERHEAD_BYTES, type EncodedEnvelope, type EncodeResult } from './encode.js';
export { DcsClient, adobeMessage } from './client.js';
