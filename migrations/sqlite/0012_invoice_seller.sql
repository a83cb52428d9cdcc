-- The seller as on the issue date (issue 27): its party, IBAN, BIC and bank,
-- so a later change of the seller's settings never rewrites an invoice
-- already sent. Invoices issued before have '{}' and show the current seller.
ALTER TABLE invoices ADD COLUMN seller TEXT NOT NULL DEFAULT '{}';
