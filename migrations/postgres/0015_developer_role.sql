-- Issue 29: the developer role (runs services; no members, billing or
-- invoices). Existing members keep their roles.
ALTER TABLE memberships DROP CONSTRAINT memberships_role_check,
    ADD CONSTRAINT memberships_role_check CHECK (role IN ('admin', 'developer', 'billing', 'viewer'));
ALTER TABLE invitations DROP CONSTRAINT invitations_role_check,
    ADD CONSTRAINT invitations_role_check CHECK (role IN ('admin', 'developer', 'billing', 'viewer'));
