-- R-RSV-8 (issue 17 item 8): a booker is found by any part of the name, Korean
-- included, fast on a million reservations. pg_trgm cannot serve a part of one
-- or two characters (길동 has no trigram), so names are indexed by every
-- character and every pair of neighbours; a query asks for all the pairs of its
-- part (chassis.privacy.name_grams) and a LIKE drops pairs found apart.
CREATE FUNCTION name_grams(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT coalesce(array_agg(DISTINCT gram), '{}')
    FROM (SELECT substr(lower(name), i, 1) AS gram FROM generate_series(1, length(name)) AS i
          UNION ALL
          SELECT substr(lower(name), i, 2) FROM generate_series(1, length(name) - 1) AS i) AS grams
$$;
CREATE INDEX reservations_by_name_part ON reservations USING gin (name_grams(booker_name));
DROP INDEX reservations_by_name;
-- A whole phone number is searched by its last four digits: the existing
-- (partner_id, booker_phone_last4) index serves it.
