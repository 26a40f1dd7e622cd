/** Settings and deadline shared by every comparison of one verification. */
import type { Budget } from "./budget.js";

export interface CompareContext {
  budget: Budget;
  /** Relative tolerance for inexact closed-form values (sqrt 2, pi) and random-point evaluation. */
  relTol: number;
  /** Relative tolerance for the high-precision check; unset: 10 digits short of the working precision. */
  preciseRelTol?: number;
  /** A decimal answer coarser than the gold must still carry this many significant digits. */
  minSigDigits: number;
}
