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
            client.batch_get_item(RequestItems={"t": {"Keys": [{"pk": {"S": "a"}, "sk": ITEM["sk"]}, {
                "pk": {"S": "zz"}, "sk": {"S": "x"}}], "ConsistentRead": True}})["Responses"],
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


def _undo_after_test(monkeypatch) -> None:
    from moto import backends
    from moto.core import responses
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler, DynamoResult
    for cls, name in ((DynamoResult, "execute_result"), (DynamoHandler, "batch_get_item"),
                      (DynamoHandler, "parse_parameters"), (Table, "query"), (Table, "all_items"),
                      (responses, "method_names_from_class"), (backends, "list_of_moto_modules")):
        monkeypatch.setattr(cls, name, getattr(cls, name))
    monkeypatch.setattr(DynamoResult, "_hadir_fast_json", False, raising=False)


def queries(client) -> list:
    """Table queries (ranges, pages, descending, filters, limits), an index's and a hash-only table's."""
    def q(**kw):
        return client.query(TableName="q", **kw)
    key = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p1"}}}
    first = q(**key, Limit=3)
    return [q(**key)["Items"], first["Items"], first.get("LastEvaluatedKey"),
            q(**key, ExclusiveStartKey=first["LastEvaluatedKey"])["Items"],
            q(**key, ScanIndexForward=False, Limit=2)["Items"],
            q(KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
              ExpressionAttributeValues={":p": {"S": "p1"}, ":s": {"S": "STATE#"}}, ConsistentRead=True)["Items"],
            q(KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b", FilterExpression="n >= :n",
              ExpressionAttributeValues={":p": {"S": "p1"}, ":a": {"S": "PING#1"}, ":b": {"S": "PING#4~"},
                                         ":n": {"N": "2"}})["Items"],
            q(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "nobody"}})["Items"],
            q(IndexName="by_g", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": {"S": "G"}})["Items"],
            client.query(TableName="h", KeyConditionExpression="pk = :p",
                         ExpressionAttributeValues={":p": {"S": "h1"}})["Items"],
            client.query(TableName="h", KeyConditionExpression="pk = :p",
                         ExpressionAttributeValues={":p": {"S": "h9"}})["Items"]]


def test_a_table_query_sorting_only_its_partition_returns_what_moto_returns(monkeypatch):
    with mock_aws():
        c = boto3.client("dynamodb", region_name="ap-southeast-3")
        attrs = [{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g")]
        c.create_table(TableName="q", BillingMode="PAY_PER_REQUEST", AttributeDefinitions=attrs,
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                       GlobalSecondaryIndexes=[{"IndexName": "by_g", "Projection": {"ProjectionType": "ALL"},
                                                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}])
        c.create_table(TableName="h", BillingMode="PAY_PER_REQUEST", AttributeDefinitions=attrs[:1],
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        # Given partitions of several keys, written out of order
        for p in ("p2", "p1", "p0"):
            for i in (4, 1, 3, 2, 5):
                c.put_item(TableName="q", Item={"pk": {"S": p}, "sk": {"S": f"PING#{i}"}, "n": {"N": str(i)},
                                                **({"g": {"S": "G"}} if i % 2 else {})})
            c.put_item(TableName="q", Item={"pk": {"S": p}, "sk": {"S": "STATE#LAST"}, "n": {"N": "0"}})
        for h in ("h2", "h1"):
            c.put_item(TableName="h", Item={"pk": {"S": h}, "v": {"S": h}})
        before = queries(c)
        # When the fast path is installed (undone after the test)
        _undo_after_test(monkeypatch)
        fast_moto.install()
        # Then every query returns the same items, pages and keys
        assert queries(c) == before
        assert [i["sk"]["S"] for i in before[0]] == ["PING#1", "PING#2", "PING#3", "PING#4", "PING#5", "STATE#LAST"]
        assert before[7] == [] and len(before[8]) == 9 and before[10] == []


def writes(c) -> list:
    """PutItem, UpdateItem and DeleteItem with every ReturnValues, conditions failing and not."""
    key = {"pk": {"S": "w"}, "sk": {"S": "STATE#LAST"}}
    out = [c.put_item(TableName="t", Item={**key, "n": {"N": "1"}}),
           c.put_item(TableName="t", Item={**key, "n": {"N": "2"}, "m": {"M": {"x": {"S": "y"}}}}, ReturnValues="ALL_OLD")]
    for rv in ("NONE", "ALL_NEW", "ALL_OLD", "UPDATED_NEW", "UPDATED_OLD"):
        out.append(c.update_item(TableName="t", Key=key, UpdateExpression="SET #a = :a ADD #n :one REMOVE #m",
                                 ConditionExpression="attribute_not_exists(#a) OR #a <= :a",
                                 ExpressionAttributeNames={"#a": "at", "#n": "n", "#m": "m"},
                                 ExpressionAttributeValues={":a": {"S": "2026"}, ":one": {"N": "1"}}, ReturnValues=rv))
    with pytest.raises(c.exceptions.ConditionalCheckFailedException) as failed:
        c.update_item(TableName="t", Key=key, UpdateExpression="SET #a = :a", ConditionExpression="attribute_not_exists(#a)",
                      ExpressionAttributeNames={"#a": "at"}, ExpressionAttributeValues={":a": {"S": "x"}})
    out.append(failed.value.response["Error"])
    out.append(c.update_item(TableName="t", Key={"pk": {"S": "new"}, "sk": {"S": "x"}}, UpdateExpression="SET v = :v",
                             ExpressionAttributeValues={":v": {"SS": ["a", "b"]}}, ReturnValues="ALL_NEW"))
    out.append(c.update_item(TableName="t", Key=key, UpdateExpression="SET bin = :b",
                             ExpressionAttributeValues={":b": {"B": b"\x00raw"}}, ReturnValues="UPDATED_NEW"))
    out += [c.delete_item(TableName="t", Key=key, ReturnValues="ALL_OLD"), c.delete_item(TableName="t", Key=key),
            c.get_item(TableName="t", Key={"pk": {"S": "new"}, "sk": {"S": "x"}})]
    for o in out:
        o.pop("ResponseMetadata", None)
    return out


def test_writes_answer_what_moto_answers(monkeypatch):
    def fresh():
        c = boto3.client("dynamodb", region_name="ap-southeast-3")
        c.create_table(TableName="t", BillingMode="PAY_PER_REQUEST", AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
        return c
    # Given what moto's own serializer answers to writes
    with mock_aws():
        before = writes(fresh())
    # When the fast path is installed (undone after the test) and the same writes run again
    _undo_after_test(monkeypatch)
    fast_moto.install()
    with mock_aws():
        after = writes(fresh())
    # Then every answer is the same: attributes, consumed capacity, errors, the binary one as bytes
    assert after == before
    assert before[3]["Attributes"]["n"] == {"N": "4"} and before[-4]["Attributes"]["bin"]["B"] == b"\x00raw"
    assert before[-1]["Item"]["v"] == {"SS": ["a", "b"]} and "Attributes" not in before[2]
