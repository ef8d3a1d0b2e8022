-- R-RSV-11 (issue 17 item 9): the partner's list names the customer of each
-- conversation, masked like every staff view (010-****-5678, 김*온).
ALTER TABLE conversations ADD COLUMN customer_name text;
