-- The guided Create billing group flow (issue 28): the answers between its
-- steps are kept here, named in the page's URL by an unguessable id, so
-- no billing detail (address, VAT ID, emails) goes into a URL, a browser's
-- history or an access log. A draft belongs to one user and account and
-- lasts a day; the session sweeper removes it after.
CREATE TABLE group_drafts (
    draft_id    TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    draft       TEXT NOT NULL CONSTRAINT group_drafts_size CHECK (length(draft) <= 65536),
    expire_time TEXT NOT NULL
);
CREATE INDEX group_drafts_expire_idx ON group_drafts (expire_time);
