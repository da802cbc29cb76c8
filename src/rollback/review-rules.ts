import { RollbackRequestState } from "../../entities/enums.js";
import type { RollbackRequest } from "../../entities/rollback-request.js";
import { badInput, conflict, forbidden, Messages, type AppError } from "../errors.js";

/**
 * The error a review of this request by this reviewer gets (role aside), or null when it may go
 * ahead: one rule set for the review itself and for the consoles that offer the buttons.
 */
export function reviewRefusal(
  request: Pick<RollbackRequest, "state" | "requestedById">,
  reviewerId: string,
  allowSelfApproval: boolean,
  alreadyReviewed: boolean,
): AppError | null {
  if (request.state !== RollbackRequestState.PENDING) return badInput(Messages.notPendingApproval, { state: request.state });
  if (request.requestedById === reviewerId && !allowSelfApproval) return forbidden(Messages.selfReview);
  if (alreadyReviewed) return conflict(Messages.alreadyReviewed);
  return null;
}
