import { graphql } from "../../gql";

export const RequestDetail = graphql(`
  fragment RequestDetail on RollbackRequest {
    id
    project
    tenant
    environment
    mode
    service
    selectedFields
    affectedServices
    targetSha
    baseSha
    state
    breakGlass
    justification
    createdAt
    updatedAt
    requiredApprovals
    approvals
    commitSha
    commitMessage
    error
    errorCode
    executionAttempts
    requestedBy {
      id
      email
    }
    reviews {
      decision
      comment
      createdAt
      reviewer {
        id
        email
      }
    }
    notes {
      text
      createdAt
      author {
        id
        email
      }
    }
    viewerCanReview {
      allowed
      reason
    }
    deployment {
      id
      status
      shortRevision
    }
  }
`);
