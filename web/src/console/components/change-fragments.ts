import { graphql } from "../../gql";

export const FieldChangeParts = graphql(`
  fragment FieldChangeParts on FieldChange {
    file
    path
    kind
    selector
    service
    before
    after
  }
`);

export const ChangeSetParts = graphql(`
  fragment ComparisonParts on RevisionComparison {
    base
    target
    impact {
      services
      bindings
      variables
      fields
      files
    }
    services {
      service
      changes {
        ...FieldChangeParts
      }
      files {
        path
        kind
        patch
      }
    }
    environmentChanges {
      ...FieldChangeParts
    }
    environmentFiles {
      path
      kind
      patch
    }
  }
`);
