-- Issue 18. Orders people can call out (item 9): a short number per partner
-- per business day (Asia/Seoul), "37번", drawn from a counter row per partner
-- and day (its row lock makes numbers unique under concurrency), and the
-- customer's name for in-store orders (called at the counter).
-- Preparation time (item 10, seed 004 소요 시간): the minutes the partner
-- gave on "start preparing" and the expected ready time they set.
CREATE TABLE order_numbers (
    partner_id  text NOT NULL,
    day         date NOT NULL,
    last_number integer NOT NULL,
    PRIMARY KEY (partner_id, day)
);
ALTER TABLE orders ADD COLUMN number integer;
ALTER TABLE orders ADD COLUMN number_day date;
ALTER TABLE orders ADD COLUMN customer_name text;
ALTER TABLE orders ADD COLUMN preparation_minutes integer;
ALTER TABLE orders ADD COLUMN ready_at timestamptz;
CREATE UNIQUE INDEX orders_partner_day_number ON orders (partner_id, number_day, number) WHERE number IS NOT NULL;

-- Tracking (item 11, R-ORD-7): the couriers the platform knows, each with its
-- tracking page; ``{invoice}`` is replaced by the invoice number. A courier
-- not listed is still accepted (small couriers exist), without a link.
CREATE TABLE couriers (
    code              text PRIMARY KEY,
    name              text NOT NULL UNIQUE,
    aliases           text[] NOT NULL DEFAULT '{}',
    tracking_template text NOT NULL CHECK (tracking_template LIKE '%{invoice}%')
);
INSERT INTO couriers (code, name, aliases, tracking_template) VALUES
    ('cj', 'CJ대한통운', '{CJ,"CJ 대한통운",대한통운,"CJ Logistics"}',
     'https://trace.cjlogistics.com/next/tracking.html?wblNo={invoice}'),
    ('hanjin', '한진택배', '{한진,Hanjin}',
     'https://www.hanjin.com/kor/CMS/DeliveryMgr/WaybillResult.do?mCode=MN038&schLang=KR&wblnumText2={invoice}'),
    ('lotte', '롯데택배', '{롯데,"롯데글로벌로지스",Lotte}',
     'https://www.lotteglogis.com/home/reservation/tracking/linkView?InvNo={invoice}'),
    ('epost', '우체국택배', '{우체국,"Korea Post",EMS}',
     'https://service.epost.go.kr/trace.RetrieveDomRigiTraceList.comm?sid1={invoice}'),
    ('logen', '로젠택배', '{로젠,Logen}',
     'https://www.ilogen.com/web/personal/trace/{invoice}');
ALTER TABLE orders ADD COLUMN tracking_url text;
