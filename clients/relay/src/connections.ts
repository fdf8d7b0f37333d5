// Paginated fragments as a Relay client writes them (forward, backward, the newest-first audit log):
// Relay's compiler compiles them against schema.graphql in CI (tests/clients/test_relay_compiler.py;
// by hand: `cd clients/relay && ../node_modules/.bin/relay-compiler`). `@connection` needs Relay's
// connection spec: `first`/`after`, `last`/`before`, pageInfo { hasNextPage hasPreviousPage
// startCursor endCursor }. No component and no relay-runtime: the fragments alone are what the
// compiler checks (it finds `graphql` tagged templates by their tag).
const graphql = String.raw;

export const locationEnrollments = graphql`
  fragment LocationEnrollments_location on Location
  @refetchable(queryName: "LocationEnrollmentsPaginationQuery")
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 10 }
    cursor: { type: "String" }
  ) {
    name
    enrollments(first: $count, after: $cursor) @connection(key: "LocationEnrollments_enrollments") {
      totalCount
      edges {
        node {
          id
          status
        }
      }
    }
  }
`;

export const organizationLocations = graphql`
  fragment OrganizationLocations_organization on Organization
  @refetchable(queryName: "OrganizationLocationsPaginationQuery")
  @argumentDefinitions(
    last: { type: "Int", defaultValue: 10 }
    before: { type: "String" }
  ) {
    locations(last: $last, before: $before) @connection(key: "OrganizationLocations_locations") {
      edges {
        node {
          id
          name
        }
      }
    }
  }
`;

export const auditLog = graphql`
  fragment OrganizationAuditLog_organization on Organization
  @refetchable(queryName: "OrganizationAuditLogPaginationQuery")
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 20 }
    cursor: { type: "String" }
  ) {
    auditLog(first: $count, after: $cursor) @connection(key: "OrganizationAuditLog_auditLog") {
      edges {
        node {
          at
          action
        }
      }
    }
  }
`;
