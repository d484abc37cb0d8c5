"""local/fast_moto_tx.py: TransactWriteItems rolled back item by item gives what moto's own
whole-table copies give: the same response, errors, cancellation reasons and tables after."""
import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import fast_moto_tx

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": str(v)}  # noqa: E731


def _tables(c) -> None:
    c.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                   KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                         {"AttributeName": "sk", "AttributeType": "S"}])
    c.create_table(TableName="h", BillingMode="PAY_PER_REQUEST",
                   KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    for sk, v in (("1", 1), ("2", 2)):
        c.put_item(TableName="t", Item={"pk": S("a"), "sk": S(sk), "v": N(v)})
    c.put_item(TableName="h", Item={"id": S("x"), "n": N(5), "tags": {"SS": ["p"]}})


def put(table, item, **kw):
    return {"Put": {"TableName": table, "Item": item, **kw}}


def update(table, key, expr, values=None, **kw):
    return {"Update": {"TableName": table, "Key": key, "UpdateExpression": expr,
                       **({"ExpressionAttributeValues": values} if values else {}), **kw}}


A1, A2, HX = {"pk": S("a"), "sk": S("1")}, {"pk": S("a"), "sk": S("2")}, {"id": S("x")}
CASES = {
    "success": [put("t", {"pk": S("a"), "sk": S("3"), "v": N(3)}, ConditionExpression="attribute_not_exists(pk)"),
                update("t", A1, "SET v = v + :one", {":one": N(1)}),
                {"Delete": {"TableName": "t", "Key": A2}},
                {"ConditionCheck": {"TableName": "h", "Key": HX, "ConditionExpression": "attribute_exists(id)"}},
                update("h", {"id": S("y")}, "ADD n :one", {":one": N(1)})],
    "condition_failure": [
        put("t", {"pk": S("a"), "sk": S("4"), "v": N(4)}),
        update("h", HX, "ADD n :one, tags :t", {":one": N(1), ":t": {"SS": ["q"]}, ":ten": N(10)},
               ConditionExpression="n > :ten", ReturnValuesOnConditionCheckFailure="ALL_OLD"),
        update("t", A1, "SET v = :z", {":z": N(0)}),
        {"Delete": {"TableName": "t", "Key": A2, "ConditionExpression": "attribute_not_exists(pk)"}},
        {"ConditionCheck": {"TableName": "nope", "Key": HX, "ConditionExpression": "attribute_exists(id)"}}],
    "duplicate_item": [put("t", {"pk": S("a"), "sk": S("5")}), update("h", HX, "ADD n :one", {":one": N(1)}),
                       update("t", {"pk": S("a"), "sk": S("5")}, "SET v = :one", {":one": N(1)})],
    "invalid_update": [put("t", {"pk": S("a"), "sk": S("6")}), update("h", HX, "ADD n :one", {":one": N(1)}),
                       update("t", A1, "SET sk = :z", {":z": S("9")})],
}


def outcome(c, items) -> tuple:
    try:
        resp = c.transact_write_items(TransactItems=items)
        result = ("ok", {k: v for k, v in resp.items() if k != "ResponseMetadata"})
    except ClientError as exc:
        err = exc.response
        result = ("error", err["Error"]["Code"], err["Error"]["Message"], err.get("CancellationReasons"))
    tables = {name: sorted(c.scan(TableName=name)["Items"], key=str) for name in ("t", "h")}
    return result, tables


def run(case: str, lean: bool, monkeypatch) -> tuple:
    from moto.dynamodb.models import DynamoDBBackend
    chosen = DynamoDBBackend.transact_write_items if lean else DynamoDBBackend._hadir_moto_transact_write_items
    with monkeypatch.context() as m, mock_aws():
        m.setattr(DynamoDBBackend, "transact_write_items", chosen)
        c = boto3.client("dynamodb", region_name="ap-southeast-3")
        _tables(c)
        return outcome(c, CASES[case])


@pytest.fixture(autouse=True)
def installed(monkeypatch):
    from moto.dynamodb.models import DynamoDBBackend
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", DynamoDBBackend.transact_write_items)
    monkeypatch.setattr(DynamoDBBackend, "_hadir_lean_tx", False, raising=False)
    fast_moto_tx.install()
    fast_moto_tx.install()  # idempotent
    assert DynamoDBBackend._hadir_moto_transact_write_items is not DynamoDBBackend.transact_write_items


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_same_outcome_as_moto_own_transactions(case, monkeypatch):
    # Given the same tables, When the same transaction runs through moto's own path and the lean one
    theirs, ours = run(case, False, monkeypatch), run(case, True, monkeypatch)
    # Then the response or error, its cancellation reasons and the tables after are the same
    assert ours == theirs


def test_the_cases_cover_success_cancellation_and_validation(monkeypatch):
    got = {case: run(case, True, monkeypatch) for case in CASES}
    # Given a success: everything written
    assert got["success"][0][0] == "ok" and len(got["success"][1]["h"]) == 2
    # Given a failed condition: cancelled with each operation's reason, the old item returned, nothing written
    (kind, code, _, reasons), tables = got["condition_failure"]
    assert (kind, code) == ("error", "TransactionCanceledException")
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed", "None", "ConditionalCheckFailed",
                                            "ResourceNotFoundException"]
    assert reasons[1]["Item"]["n"] == N(5)
    assert {i["sk"]["S"] for i in tables["t"]} == {"1", "2"} and tables["h"][0]["n"] == N(5)  # the seeded items
    # Given the same item twice, or an invalid expression: a validation error, the earlier writes undone
    for case in ("duplicate_item", "invalid_update"):
        (kind, code, *_), tables = got[case]
        assert (kind, code) == ("error", "ValidationException")
        assert {i["sk"]["S"] for i in tables["t"]} == {"1", "2"} and tables["h"][0]["n"] == N(5)
