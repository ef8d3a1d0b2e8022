-- Channel-message audiences come from insights (issue 19: one read model per question;
-- insights.channel_audience): notifications' own copy of who a partner's customers are
-- goes. It had no occurred_at guard, so an older event could overwrite a newer status.
DROP TABLE partner_customers;
DROP TABLE known_reservations;
