"""Product questions before buying (issue 18 item 12, seed 003 "고객 문의 응답", R-ORD-9
before an order exists), through the gateway: customers ask about a product
without an order, the partner answers once, everyone reads the public ones and
only the asker and the partner read a private one."""

from orders.tests.helpers import fashion_shop
from support.api import assert_error, expect


def test_r_ord_9_product_questions_public_unless_private_one_answer_each(partner_center):
    pc = partner_center("catalog")
    shop = fashion_shop(pc)
    other = fashion_shop(pc)
    product_id = shop.products["Linen shirt"]["product_id"]
    asker, reader = pc.customer_session(), pc.customer_session()
    questions = f"/v1/shop/products/{product_id}/questions"

    public = expect(asker.client.post(questions, json={"body": "M 사이즈 총장이 몇 cm인가요?"}), 201)
    private = expect(asker.client.post(questions, json={"body": "010-1234-5678로 연락 주세요", "private": True}), 201)
    assert (public["private"], private["private"], private["mine"]) == (False, True, True)
    assert set(
        assert_error(asker.client.post(questions, json={"body": "x", "price": 1}), 422)["details"]["fields"]
    ) == {"price"}
    assert_error(
        asker.client.post("/v1/shop/products/00000000-0000-0000-0000-000000000000/questions", json={"body": "x"}),
        404,
        "product_not_found",
    )
    assert_error(pc.client().post(questions, json={"body": "x"}), 401)

    # The partner sees both whole, answers each once; another partner sees nothing of them.
    listed = expect(shop.partner.admin.client.get(f"{shop.path}/product-questions", params={"answered": "false"}), 200)[
        "items"
    ]
    assert [q["body"] for q in listed] == [private["body"], public["body"]]
    assert listed[0]["product_name"] == "Linen shirt"
    answer = f"{shop.path}/product-questions/{public['question_id']}/answer"
    staff = pc.staff(shop.partner, "member").client
    answered = expect(staff.post(answer, json={"body": "총장 72cm입니다."}), 200)
    assert (answered["answer"], answered["answered"]) == ("총장 72cm입니다.", True)
    assert_error(staff.post(answer, json={"body": "again"}), 409, "already_answered")
    assert_error(
        other.partner.admin.client.post(
            f"{other.path}/product-questions/{private['question_id']}/answer", json={"body": "x"}
        ),
        404,
        "question_not_found",
    )
    assert expect(other.partner.admin.client.get(f"{other.path}/product-questions"), 200)["items"] == []
    expect(
        staff.post(f"{shop.path}/product-questions/{private['question_id']}/answer", json={"body": "전화 드렸습니다."}),
        200,
    )

    # Anyone reads the public question and its answer; a private one only its asker.
    for client, sees_private in ((pc.client(), False), (reader.client, False), (asker.client, True)):
        items = {q["question_id"]: q for q in expect(client.get(questions), 200)["items"]}
        assert items[public["question_id"]]["answer"] == "총장 72cm입니다."
        hidden = items[private["question_id"]]
        assert hidden["answered"] is True and (hidden["body"] is not None) == sees_private
        assert (hidden["answer"] == "전화 드렸습니다.") == sees_private
    assert expect(staff.get(f"{shop.path}/product-questions", params={"answered": "false"}), 200)["items"] == []
