/** Settings and deadline shared by every comparison of one verification. */
import type { Budget } from "./budget.js";

export interface CompareContext {
  budget: Budget;
  /** Relative tolerance for inexact closed-form values (sqrt 2, pi) and random-point evaluation. */
  relTol: number;
  /** Relative tolerance at 40 digits; tiny unless the caller asked for a looser relTol. */
  preciseRelTol: number;
  /** A decimal answer coarser than the gold must still carry this many significant digits. */
  minSigDigits: number;
}
