/**
 * rbflex library API: the same functions the CLI uses. See README "Library" for a runnable example.
 *
 *   import { ScoringSession, getSpace, loadImages } from 'rbflex';
 *   const images = await loadImages('synthetic', { dataset: 'cifar10', n: 3, seed: 1 });
 *   const s = new ScoringSession({ space: 'nb201', images, proxies: ['rbflex', 'naswot'], workers: 0 });
 *   const scores = await s.score([getSpace('nb201').archAt(123)]);
 *   await s.close();
 */
export * from './ir/types.js';
export { GraphBuilder, IRError } from './ir/builder.js';
export { countParams, countFlops, countFlopsTensorwatch, networkInfo, paramSpecs, type NetworkInfo } from './ir/analysis.js';
export { initWeights, type Weights } from './ir/init.js';
export { ACTIVATION_FN, erf } from './ir/activations.js';
export type { Backend, BackendName, BatchNormMode, Features, FeatureSegment, ImageBatch } from './backends/types.js';
export { ReferenceBackend } from './backends/reference.js';
export { OnnxBackend } from './backends/onnx/backend.js';
export { exportOnnx } from './backends/onnx/export.js';
export { getSpace, spaceNames, registerSpace } from './spaces/index.js';
export { SpaceError, sampleArchs, type Space, type BuildOptions } from './spaces/types.js';
export { PROXIES, PROXY_NAMES, REFERENCE_GAMMAS, type ProxyName, type ProxySettings } from './proxies/index.js';
export { rbflexScore, normalizedSquaredDistances, type ColumnBlock } from './proxies/rbflex.js';
export { hdaCandidates, hdaFromCandidates, HdaError, HDA_VARIANTS, type HdaVariant } from './proxies/hda.js';
export { naswotScore, naswotKernel } from './proxies/naswot.js';
export { logAbsDet, rbfLogDet } from './proxies/linalg.js';
export { Scorer, weightSeed, type ArchScore, type ScorerConfig } from './search/scorer.js';
export { ScoringSession, type SessionOptions } from './search/session.js';
export type { Progress } from './search/runner.js';
export { imagesKey, proxyKeysOf, spaceFingerprint } from './search/cache-key.js';
export { engineFingerprints, engineVersion } from './search/engine.js';
export * from './study/index.js';
export { type ModelScore, type ModelScoreOptions, modelInputShape, scoreImportedModel } from './study/model.js';
export { hdaNetworkCandidates } from './search/hda.js';
export { AsisModel, type AsisOptions, type AsisInfo } from './onnx-asis/model.js';
export { ASIS_PROXIES, asisHdaCandidates, scoreAsis, type AsisScores, type AsisScoreSettings } from './onnx-asis/score.js';
export { makeBackend, scoreNetwork } from './search/scorer.js';
export { detectGammas } from './search/hda.js';
export { runSearch, analyseStudy, type SearchResult, type StudyRow } from './search/protocol.js';
export { kendallTauB, spearman, pearson, correlations } from './search/stats.js';
export { Rng } from './util/rng.js';
export { loadImages } from './data/index.js';
export { openBenchmark } from './benchmarks/index.js';
export type { Benchmark } from './benchmarks/types.js';
export { DataError } from './util/errors.js';
export { importOnnx, OnnxImportError, type OnnxImportInfo, type OnnxImportOptions, type ImportedModel } from './onnx-import/index.js';
