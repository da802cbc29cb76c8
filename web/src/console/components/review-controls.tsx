import { useState } from "react";
import { useMutation } from "urql";
import { graphql } from "../../gql";
import { ErrorMessage } from "./feedback";

const ReviewRollback = graphql(`
  mutation ReviewRollback($id: ID!, $decision: ReviewDecision!, $comment: String) {
    reviewRollbackRequest(id: $id, decision: $decision, comment: $comment) {
      ...RequestDetail
    }
  }
`);

/** Approve / Reject with a comment; disabled with the API's reason when the caller may not review. */
export function ReviewControls({ request }: { request: { id: string; viewerCanReview: { allowed: boolean; reason?: string | null } } }) {
  const [comment, setComment] = useState("");
  const [result, review] = useMutation(ReviewRollback);
  const { allowed, reason } = request.viewerCanReview;
  const disabled = !allowed || result.fetching;
  const whyId = `review-why-${request.id}`;
  const decide = (decision: "APPROVE" | "REJECT") => review({ id: request.id, decision, comment: comment.trim() || null });
  return (
    <div className="review" role="group" aria-label={`Review ${request.id}`}>
      <label htmlFor={`comment-${request.id}`}>Review comment for {request.id} (optional)</label>
      <input id={`comment-${request.id}`} type="text" value={comment} maxLength={2000} onChange={(e) => setComment(e.target.value)} disabled={!allowed} />
      <button type="button" className="primary" disabled={disabled} aria-describedby={allowed ? undefined : whyId} onClick={() => decide("APPROVE")}>
        Approve
      </button>
      <button type="button" className="danger" disabled={disabled} aria-describedby={allowed ? undefined : whyId} onClick={() => decide("REJECT")}>
        Reject
      </button>
      {allowed ? null : (
        <p id={whyId} className="why-not">
          You cannot review this request: {reason}
        </p>
      )}
      <ErrorMessage error={result.error} prefix="The review was not recorded" />
    </div>
  );
}
