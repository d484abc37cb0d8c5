"""local/fast_moto.py: DynamoDB's item-returning responses written as JSON read back exactly as
moto's own serializer writes them (strings, numbers, maps, lists, sets, booleans, nulls), and
binary items still go through moto's serializer."""
import boto3
import pytest
from moto import mock_aws

from local import fast_moto

ITEM = {"pk": {"S": "a"}, "sk": {"S": "DAY#2026-03-02"}, "n": {"N": "1.5"}, "ok": {"BOOL": True},
        "nothing": {"NULL": True}, "m": {"M": {"x": {"L": [{"S": "y"}, {"N": "2"}]}}}, "ss": {"SS": ["p", "q"]},
        "data": {"S": '{"status": "absent", "reasons": []}'}}
BINARY = {"pk": {"S": "b"}, "sk": {"S": "x"}, "blob": {"B": b"\x00\xffraw"}}


def reads(client) -> list:
    return [client.get_item(TableName="t", Key={"pk": {"S": "a"}, "sk": ITEM["sk"]})["Item"],
            client.get_item(TableName="t", Key={"pk": {"S": "b"}, "sk": {"S": "x"}})["Item"],
            client.batch_get_item(RequestItems={"t": {"Keys": [{"pk": {"S": "a"}, "sk": ITEM["sk"]}]}})["Responses"],
            client.query(TableName="t", KeyConditionExpression="pk = :a",
                         ExpressionAttributeValues={":a": {"S": "a"}})["Items"],
            sorted(client.scan(TableName="t")["Items"], key=lambda i: i["pk"]["S"])]


@pytest.fixture
def client():
    with mock_aws():
        c = boto3.client("dynamodb", region_name="ap-southeast-3")
        c.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                             {"AttributeName": "sk", "AttributeType": "S"}])
        c.put_item(TableName="t", Item=ITEM)
        c.put_item(TableName="t", Item=BINARY)
        yield c


def test_items_read_the_same_with_and_without_the_fast_path(client, monkeypatch):
    from moto.dynamodb.responses import DynamoResult
    # Given what moto's own serializer returns
    before = reads(client)
    # When the fast path is installed (undone after the test)
    monkeypatch.setattr(DynamoResult, "execute_result", DynamoResult.execute_result)
    monkeypatch.setattr(DynamoResult, "_hadir_fast_json", False, raising=False)
    from moto.dynamodb.responses import DynamoHandler
    monkeypatch.setattr(DynamoHandler, "batch_get_item", DynamoHandler.batch_get_item)
    monkeypatch.setattr(DynamoHandler, "parse_parameters", DynamoHandler.parse_parameters)
    from moto import backends
    monkeypatch.setattr(backends, "list_of_moto_modules", backends.list_of_moto_modules)
    fast_moto.install()
    fast_moto.install()  # idempotent
    # Then every read returns the same items, the binary one as bytes
    assert reads(client) == before
    assert before[1]["blob"]["B"] == b"\x00\xffraw" and before[0]["ss"]["SS"] == ["p", "q"]
    # and a missing item is still no Item, and no page key is a null
    assert "Item" not in client.get_item(TableName="t", Key={"pk": {"S": "zz"}, "sk": {"S": "x"}})
    assert "LastEvaluatedKey" not in client.scan(TableName="t")
    # and BatchGetItem still refuses duplicates and more than 100 keys as moto does
    key = {"pk": {"S": "a"}, "sk": ITEM["sk"]}
    for keys in ([key, key], [{"pk": {"S": str(i)}, "sk": {"S": "x"}} for i in range(101)]):
        with pytest.raises(client.exceptions.ClientError) as exc:
            client.batch_get_item(RequestItems={"t": {"Keys": keys}})
        assert exc.value.response["Error"]["Code"] == "ValidationException"
    both = client.batch_get_item(RequestItems={"t": {"Keys": [key, {"pk": {"S": "b"}, "sk": {"S": "x"}}]}})
    assert sorted(i["pk"]["S"] for i in both["Responses"]["t"]) == ["a", "b"] and not both["UnprocessedKeys"]


def test_batch_bodies_read_as_plain_json_write_and_read_the_same_items(client, monkeypatch):
    from moto import backends
    from moto.dynamodb.responses import DynamoHandler, DynamoResult
    for cls, name in ((DynamoResult, "execute_result"), (DynamoHandler, "batch_get_item"),
                      (DynamoHandler, "parse_parameters")):
        monkeypatch.setattr(cls, name, getattr(cls, name))
    monkeypatch.setattr(DynamoResult, "_hadir_fast_json", False, raising=False)
    monkeypatch.setattr(backends, "list_of_moto_modules", backends.list_of_moto_modules)
    # Given the fast path installed
    fast_moto.install()
    # When items (one with a binary attribute) are written and read by batch
    plain = {**ITEM, "pk": {"S": "c"}}
    binary = {**BINARY, "pk": {"S": "d"}}
    client.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": plain}}, {"PutRequest": {"Item": binary}}]})
    got = client.batch_get_item(RequestItems={"t": {"Keys": [{"pk": {"S": "c"}, "sk": ITEM["sk"]},
                                                             {"pk": {"S": "d"}, "sk": {"S": "x"}}]}})["Responses"]["t"]
    # Then both come back exactly as written, the binary one as bytes
    assert sorted(got, key=lambda i: i["pk"]["S"]) == [plain, binary]
