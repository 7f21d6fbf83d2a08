/** The study room: correlation studies and run set-up (images, gammas) as library calls. */
export { SetupError } from './errors.js';
export { type ImageSpec, describeImages, imagesFor } from './images.js';
export { type GammaChoice, type GammaRun, type Gammas, gammasFor, givenGammas, resolveGammas } from './gammas.js';
export { type StudyDraw, drawStudyArchs } from './draw.js';
export { type SeedSpread, type StudyOptions, type StudyRepeat, type StudyResult, runStudy } from './run.js';
export { studyFiles, studySummary, writeStudyOutputs } from './outputs.js';
export { type AblationCell, type AblationOptions, type AblationResult, type AblationRow, ABLATION_NS, ABLATION_TAPS, runAblation } from './ablation.js';
export { ablationMarkdown } from './ablation-report.js';
