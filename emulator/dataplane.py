"""One region's DynamoDB API: request validation, item operations, batches, transactions.

`RegionService.handle(operation, request)` answers one decoded DynamoDB 2012-08-10 request
for its region, or raises `DynamoError` with the service's error. Reads go to the table's
replication engine (`get` / `scan`, SC or EC); every write becomes `Mutation`s whose pure
`compute(old)` evaluates the condition and builds the new item, handed to `engine.write`
(emulator/engine.py), so async and MRSC engines share this layer untouched.

Transactions (TransactWriteItems / TransactGetItems) are ACID inside the region that runs
them (A11): the region lock is held while every condition is checked and every item written;
replication then carries each item on its own, so a remote region can see them torn. MRSC
tables reject transactions (M14). Control-plane operations are delegated to the cluster
(emulator/cluster.py); DynamoDB Streams operations to emulator/streams.py.
"""

from __future__ import annotations

import json
import re
import time
import zlib
from typing import Any, Callable

from emulator import attrs, legacy
from emulator.partiql import PartiQL
from emulator import indexes as ix
from emulator import expressions as ex
from emulator.backups import operations as backup_operations
from emulator.cluster import Cluster, GlobalTable
from emulator.engine import UNCHANGED, Mutation
from emulator.errors import DynamoError, condition_failed, validation
from emulator.wording import worded

BATCH_GET_MAX = 100
BATCH_GET_BYTES_MAX = 16 * 1024 * 1024  # a BatchGetItem answer holds at most 16 MB of items
_TABLE_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:([a-z0-9-]+):[0-9]{12}:table/([a-zA-Z0-9_.-]{3,255})")
INTEGER_MAX = 2**31 - 1  # the API's Integer members (Limit, Segment...) are 32-bit
TRANSACTION_BYTES_MAX = 4 * 1024 * 1024  # "the aggregate size of the items ... 4 MB"
BATCH_WRITE_MAX = 25
TRANSACT_MAX = 100
QUERY_PAGE_BYTES_MAX = 1024 * 1024


def _serial(msg: str = "Unexpected value type in payload") -> DynamoError:
    return DynamoError("SerializationException", msg)


def _opt_str(req: dict, name: str) -> str | None:
    v = req.get(name)
    if v is not None and not isinstance(v, str):
        raise _serial()
    return v


def _enum(req: dict, name: str, allowed: tuple[str, ...], default: str) -> str:
    v = req.get(name, default)
    if v not in allowed:
        raise validation(f"1 validation error detected: Value '{v}' at '{name[0].lower() + name[1:]}' "
                         f"failed to satisfy constraint: Member must satisfy enum value set: "
                         f"[{', '.join(allowed)}]")
    return v


def _legacy(req: dict, *names: str) -> None:
    for n in names:
        if n in req:
            raise validation(f"The legacy parameter {n} is not supported by the gtcheck emulator; "
                             "use expressions")


def _consumed(req: dict, table: str, units: float) -> dict:
    rc = req.get("ReturnConsumedCapacity", "NONE")
    if rc in ("TOTAL", "INDEXES"):
        return {"ConsumedCapacity": {"TableName": table, "CapacityUnits": units}}
    return {}


class RegionService:
    """The DynamoDB API of one region."""

    def __init__(self, cluster: Cluster, region: str) -> None:
        self.cluster = cluster
        self.region = region
        # TransactWriteItems idempotency: ClientRequestToken -> (request, when), per region
        self.tokens: dict[str, tuple[str, float]] = {}
        self.ops: dict[str, Callable[[dict], dict]] = {
            "PutItem": self.put_item, "GetItem": self.get_item,
            "UpdateItem": self.update_item, "DeleteItem": self.delete_item,
            "Query": self.query, "Scan": self.scan,
            "BatchGetItem": self.batch_get_item, "BatchWriteItem": self.batch_write_item,
            "TransactWriteItems": self.transact_write_items,
            "TransactGetItems": self.transact_get_items,
            "ExecuteStatement": lambda r: PartiQL(self).execute_statement(r),
            "BatchExecuteStatement": lambda r: PartiQL(self).batch_execute_statement(r),
            "ExecuteTransaction": lambda r: PartiQL(self).execute_transaction(r),
            "CreateTable": lambda r: cluster.create_table(region, r),
            "DeleteTable": lambda r: cluster.delete_table(region, r),
            "DescribeTable": lambda r: cluster.describe_table(region, r),
            "ListTables": lambda r: cluster.list_tables(region, r),
            "UpdateTable": lambda r: cluster.update_table(region, r),
            "TagResource": lambda r: cluster.tag_resource(region, r),
            "UntagResource": lambda r: cluster.untag_resource(region, r),
            "ListTagsOfResource": lambda r: cluster.list_tags_of_resource(region, r),
            "DescribeEndpoints": self.describe_endpoints,
            "DescribeTimeToLive": self.describe_ttl,
            "UpdateTimeToLive": self.update_ttl,
            "DescribeLimits": lambda r: {"AccountMaxReadCapacityUnits": 80000,
                                         "AccountMaxWriteCapacityUnits": 80000,
                                         "TableMaxReadCapacityUnits": 40000,
                                         "TableMaxWriteCapacityUnits": 40000},
        }
        self.ops.update(backup_operations(cluster, region, self._named))  # emulator/backups.py

    def handle(self, operation: str, req: Any) -> dict:
        fn = self.ops.get(operation)
        if fn is None:
            raise DynamoError("UnknownOperationException", f"Unknown operation: {operation}")
        if not isinstance(req, dict):
            raise _serial("Start of structure or map found where not expected")
        self.cluster.running[self.region].wait()  # a frozen region (`pause`) answers later
        try:
            if "ReturnConsumedCapacity" in req:  # checked before anything is done
                _enum(req, "ReturnConsumedCapacity", ("INDEXES", "TOTAL", "NONE"), "NONE")
            return fn(legacy.translate(operation, req))
        except DynamoError as e:
            raise worded(operation, e) from None

    def _table(self, req: dict, field: str = "TableName") -> GlobalTable:
        return self._named(req.get(field))

    def _named(self, name: Any) -> GlobalTable:
        """The table a data-plane request names, by its name or its ARN in this region
        (`arn:aws:dynamodb:<region>:<account>:table/<name>`, as the service accepts)."""
        if isinstance(name, str) and name.startswith("arn:"):
            m = _TABLE_ARN.fullmatch(name)
            if m is None or m.group(1) != self.region:
                raise validation(f"Invalid TableArn: Invalid ResourceArn provided as input {name}")
            name = m.group(2)
        return self.cluster.table(self.region, name)

    # ---- single-item operations ----------------------------------------------------
    def put_item(self, req: dict) -> dict:
        t = self._table(req)
        item = attrs.check_item(req.get("Item") if "Item" in req else _missing("item"))
        key = t.schema.key_of_item(item)
        attrs.check_item_size(item)
        t.indexes.check_item(item)
        return self._replace(req, t, key, t.schema.key_attrs(item), item)

    def _replace(self, req: dict, t: GlobalTable, key: tuple, keys: dict,
                 new: dict | None) -> dict:
        """PutItem (`new` = the item) and DeleteItem (`new` = None): conditional replace."""
        _legacy(req, "Expected", "ConditionalOperator")
        rv = _return_values_choice(req, ("NONE", "ALL_OLD"))
        check = self._condition(req)
        on_fail = _enum(req, "ReturnValuesOnConditionCheckFailure", ("ALL_OLD", "NONE"), "NONE")

        def compute(old: dict | None) -> dict | None:
            if check is not None and not check(old):
                raise condition_failed(old if on_fail == "ALL_OLD" else None)
            return new

        out = t.engine.write(self.region, [Mutation(key, keys, compute)])[0]
        resp = _consumed(req, t.name, 1.0)
        if rv == "ALL_OLD" and out.old is not None:
            resp["Attributes"] = out.old
        return resp

    def get_item(self, req: dict) -> dict:
        t = self._table(req)
        projection = self._projection(req)  # expression parameters first, as the service
        key = t.schema.key_of_key(req.get("Key") if "Key" in req else _missing("key"))
        consistent = _bool(req, "ConsistentRead")
        item = t.engine.get(self.region, key, consistent)
        resp = _consumed(req, t.name, 1.0 if consistent else 0.5)
        if item is not None:
            resp["Item"] = projection(item) if projection else item
        return resp

    def update_item(self, req: dict) -> dict:
        _legacy(req, "Expected", "ConditionalOperator", "AttributeUpdates")
        t = self._table(req)
        keys = req.get("Key") if "Key" in req else _missing("key")
        key = t.schema.key_of_key(keys)
        keys = attrs.check_item(keys)
        upd_text = _opt_str(req, "UpdateExpression")
        cond_text = _opt_str(req, "ConditionExpression")
        upd = ex.parse_update(upd_text) if upd_text is not None else None
        cond = ex.parse_condition(cond_text) if cond_text is not None else None
        ph = ex.Placeholders(req.get("ExpressionAttributeNames"),
                             req.get("ExpressionAttributeValues"), [upd, cond])
        if upd is not None:
            ex.check_update_paths(upd, ph)
        rv = _return_values_choice(req, ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW",
                                         "UPDATED_NEW"))
        on_fail = _enum(req, "ReturnValuesOnConditionCheckFailure", ("ALL_OLD", "NONE"), "NONE")
        names = t.schema.names

        def compute(old: dict | None) -> dict:
            if cond is not None and not ex.evaluate(old, cond, ph):
                raise condition_failed(old if on_fail == "ALL_OLD" else None)
            base = dict(old) if old is not None else dict(keys)
            new = ex.apply_update(base, upd, ph, names) if upd is not None else base
            attrs.check_item_size(new, "Item size to update has exceeded the maximum allowed size")
            t.indexes.check_item(new, updating=True)
            return new

        out = t.engine.write(self.region, [Mutation(key, keys, compute)])[0]
        resp = _consumed(req, t.name, 1.0)
        if rv in ("UPDATED_OLD", "UPDATED_NEW") and upd is not None:
            # the paths the update names, nested ones as nested paths (not their whole
            # top-level attribute), as they were before / are after
            paths = tuple(a if w == "REMOVE" else a[0] for w, acts in upd.items() for a in acts)
            item = out.old if rv == "UPDATED_OLD" else out.new
            attrs_out = ex.project(item, paths, ph) if item else None
        else:
            attrs_out = _return_values(rv, out.old, out.new)
        if attrs_out:
            resp["Attributes"] = attrs_out
        return resp

    def delete_item(self, req: dict) -> dict:
        t = self._table(req)
        keys = req.get("Key") if "Key" in req else _missing("key")
        key = t.schema.key_of_key(keys)
        return self._replace(req, t, key, attrs.check_item(keys), None)

    # ---- helpers for expressions ---------------------------------------------------
    def _condition(self, req: dict, field: str = "ConditionExpression"
                   ) -> Callable[[dict | None], bool] | None:
        text = _opt_str(req, field)
        if text is None and "ExpressionAttributeNames" not in req \
                and "ExpressionAttributeValues" not in req:
            return None  # fast path: no expression, nothing to check
        cond = ex.parse_condition(text) if text is not None else None
        ph = ex.Placeholders(req.get("ExpressionAttributeNames"),
                             req.get("ExpressionAttributeValues"), [cond])
        if cond is None:
            return None
        ex.check_operands(cond, ph, field)
        return lambda item: ex.evaluate(item, cond, ph)

    def _projection(self, req: dict) -> Callable[[dict], dict] | None:
        text = _opt_str(req, "ProjectionExpression")
        legacy = req.get("AttributesToGet")
        if text is None and legacy is None and "ExpressionAttributeNames" not in req:
            return None  # fast path: whole items
        if legacy is not None:
            if text is not None:
                raise validation("Can not use both expression and non-expression parameters in "
                                 "the same request: Non-expression parameters: {AttributesToGet} "
                                 "Expression parameters: {ProjectionExpression}")
            if not isinstance(legacy, list) or not all(isinstance(a, str) for a in legacy):
                raise _serial()
            wanted = set(legacy)
            ex.Placeholders(req.get("ExpressionAttributeNames"), None, [])
            return lambda item: {k: v for k, v in item.items() if k in wanted}
        proj = ex.parse_projection(text) if text is not None else None
        ph = ex.Placeholders(req.get("ExpressionAttributeNames"), None, [proj])
        if proj is None:
            return None
        return lambda item: ex.project(item, proj, ph)

    # ---- query and scan ------------------------------------------------------------
    def query(self, req: dict) -> dict:
        t = self._table(req)
        if req.get("IndexName") is not None:
            return self._index_read("Query", req, t)
        _index_select(req, None, "1 validation error detected: ")
        _legacy(req, "KeyConditions", "QueryFilter", "ConditionalOperator")
        kc_text = _opt_str(req, "KeyConditionExpression")
        if kc_text is None:
            raise validation("Either KeyConditions or QueryFilter should be present")
        kc = ex.parse_condition(kc_text, "KeyConditionExpression")
        filt, proj, ph = _read_expressions(req, kc)
        hash_value, range_cond = _key_condition(kc, ph, t)
        consistent = _bool(req, "ConsistentRead")
        if "query-sc-unfenced" in self.cluster.bugs:
            # BUG (emulator/bugs.py): the consistency flag is not passed on for Query.
            consistent = False
        items = [it for it in t.engine.scan(self.region, consistent)
                 if attrs.equal(it.get(t.schema.hash), hash_value)
                 and (range_cond is None or ex.evaluate(it, range_cond, ph))]
        if not _bool(req, "ScanIndexForward", True):
            items.reverse()
        return self._page(req, t, items, filt, proj, ph, forward=_bool(req, "ScanIndexForward", True))

    def scan(self, req: dict) -> dict:
        t = self._table(req)
        if req.get("IndexName") is not None:
            return self._index_read("Scan", req, t)
        _index_select(req, None, "")
        _legacy(req, "ScanFilter", "ConditionalOperator")
        filt_text = _opt_str(req, "FilterExpression")
        filt = ex.parse_condition(filt_text, "FilterExpression") if filt_text is not None else None
        proj_text = _opt_str(req, "ProjectionExpression")
        proj = ex.parse_projection(proj_text) if proj_text is not None else None
        ph = ex.Placeholders(req.get("ExpressionAttributeNames"),
                             req.get("ExpressionAttributeValues"), [filt, proj])
        if filt is not None:
            ex.check_operands(filt, ph, "FilterExpression")
        items = t.engine.scan(self.region, _bool(req, "ConsistentRead"))
        seg, total = req.get("Segment"), req.get("TotalSegments")
        if (seg is None) != (total is None):
            raise validation("The TotalSegments parameter is required but was not present in the "
                             "request when Segment parameter is present" if total is None else
                             "The Segment parameter is required but was not present in the request "
                             "when parameter TotalSegments is present")
        if total is not None:
            if not isinstance(total, int) or not isinstance(seg, int) or not 1 <= total <= 1_000_000 \
                    or not 0 <= seg < total:
                raise validation("The Segment parameter is zero-based and must be less than "
                                 f"parameter TotalSegments: Segment: {seg} is not less than "
                                 f"TotalSegments: {total}")
            items = [it for it in items
                     if zlib.crc32(json.dumps(it[t.schema.hash], sort_keys=True).encode()) % total == seg]
        return self._page(req, t, items, filt, proj, ph, forward=True)

    def _index_read(self, operation: str, req: dict, t: GlobalTable) -> dict:
        """Query or Scan with IndexName (emulator/indexes.py): a GSI is read from this
        region's index state, always eventually consistent; an LSI from the table's copy
        that ConsistentRead chooses."""
        spec = t.indexes.spec(req.get("IndexName"))
        consistent = _bool(req, "ConsistentRead")
        if consistent and not spec.local:
            raise validation("Consistent reads are not supported on global secondary indexes")
        if spec.status(time.monotonic()) == "CREATING" and spec.backfilling:
            raise validation("Cannot read from backfilling global secondary index: "
                             f"{spec.name}")
        prefix = "1 validation error detected: " if operation == "Query" else ""
        _index_select(req, spec, prefix)
        forward = True
        if operation == "Query":
            _legacy(req, "KeyConditions", "QueryFilter", "ConditionalOperator")
            kc_text = _opt_str(req, "KeyConditionExpression")
            if kc_text is None:
                raise validation("Either KeyConditions or QueryFilter should be present")
            kc = ex.parse_condition(kc_text, "KeyConditionExpression")
        else:
            _legacy(req, "ScanFilter", "ConditionalOperator")
            kc = None
        filt, proj, ph = _read_expressions(req, kc)
        if spec.local:
            items = [it for it in t.engine.scan(self.region, consistent) if spec.covers(it)]
        else:
            items = t.indexes.gsi_items(self.region, spec)
        if kc is not None:
            match = ix.key_condition(kc, ph, spec)
            items = [it for it in items if match(it)]
            forward = _bool(req, "ScanIndexForward", True)
        order = {id(it): spec.order_key(it, t.schema.key_of_item(it)) for it in items}
        items.sort(key=lambda it: order[id(it)], reverse=not forward)
        items = [spec.project(it, t.schema.names) for it in items]
        return self._page(req, t, items, filt, proj, ph, forward=forward, index=spec)

    def _page(self, req: dict, t: GlobalTable, items: list[dict], filt: Any, proj: Any,
              ph: ex.Placeholders, *, forward: bool, index: ix.IndexSpec | None = None) -> dict:
        start = req.get("ExclusiveStartKey")
        if start is not None and index is not None:
            # an index's start key holds the index key and the table key of the last item
            if not isinstance(start, dict) or not all(n in start for n in index.key_names):
                raise validation("The provided starting key is invalid: The provided key "
                                 "element does not match the schema")
            sk = index.order_key(start, t.schema.key_of_key(
                {n: start[n] for n in t.schema.names if n in start}))
            items = [it for it in items
                     if (index.order_key(it, t.schema.key_of_item(it)) > sk if forward
                         else index.order_key(it, t.schema.key_of_item(it)) < sk)]
        elif start is not None:
            sk = t.schema.key_of_key(start)
            keyed = [(t.schema.key_of_item(it), it) for it in items]
            items = [it for k, it in keyed if (k > sk if forward else k < sk)]
        limit = req.get("Limit")
        if isinstance(limit, int) and limit > INTEGER_MAX:
            # Limit is a 32-bit Integer member: a larger number cannot be deserialized
            raise _serial("NUMBER_VALUE cannot be converted to Integer")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise validation("1 validation error detected: Value at 'limit' failed to satisfy "
                             "constraint: Member must have value greater than or equal to 1")
        select = _enum(req, "Select", ("SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES",
                                       "ALL_PROJECTED_ATTRIBUTES"), "ALL_ATTRIBUTES")
        if select == "SPECIFIC_ATTRIBUTES" and proj is None and "AttributesToGet" not in req:
            raise validation("Must specify the AttributesToGet or ProjectionExpression when "
                             "choosing to get SPECIFIC_ATTRIBUTES")
        scanned = items[:limit] if limit is not None else items
        size = 0
        cut = len(scanned)
        for i, it in enumerate(scanned):
            size += attrs.item_size(it)
            if size > QUERY_PAGE_BYTES_MAX:
                cut = i + 1
                break
        more = cut < len(items)
        scanned = scanned[:cut]
        matched = [it for it in scanned if filt is None or ex.evaluate(it, filt, ph)]
        resp: dict[str, Any] = {"Count": len(matched), "ScannedCount": len(scanned)}
        if select != "COUNT":
            resp["Items"] = [ex.project(it, proj, ph) if proj else it for it in matched]
        if more and scanned:
            last = scanned[-1]
            if "scan-page-skips-item" in self.cluster.bugs and cut < len(items):
                # BUG (emulator/bugs.py): the page's LastEvaluatedKey names the first item
                # it did not return, so the next page starts after that item.
                last = items[cut]
            resp["LastEvaluatedKey"] = t.schema.key_attrs(last)
            if index is not None:
                resp["LastEvaluatedKey"].update({n: last[n] for n in index.key_names})
        resp.update(_consumed(req, t.name, max(1.0, size / 4096)))
        return resp

    # ---- batches -------------------------------------------------------------------
    def batch_get_item(self, req: dict) -> dict:
        ri = req.get("RequestItems")
        if not isinstance(ri, dict) or not ri:
            raise validation("1 validation error detected: Value null at 'requestItems' failed to "
                             "satisfy constraint: Member must not be null")
        for name, spec in ri.items():
            if isinstance(spec, dict) and isinstance(spec.get("Keys"), list) \
                    and len(spec["Keys"]) > BATCH_GET_MAX:
                raise validation("1 validation error detected: Value at 'requestItems."
                                 f"{name}.member.keys' failed to satisfy constraint: Member must "
                                 f"have length less than or equal to {BATCH_GET_MAX}")
        total = sum(len(v.get("Keys", [])) if isinstance(v, dict) and isinstance(v.get("Keys"), list)
                    else 0 for v in ri.values())
        if total > BATCH_GET_MAX:
            raise validation("Too many items requested for the BatchGetItem call")
        responses: dict[str, list] = {}
        unprocessed: dict[str, dict] = {}
        size_left: int | None = BATCH_GET_BYTES_MAX
        for name, spec in ri.items():
            if isinstance(spec, dict):
                self._projection(spec)  # expression parameters before the table, as the service
            t = self._named(name)
            if not isinstance(spec, dict) or not isinstance(spec.get("Keys"), list) or not spec["Keys"]:
                raise validation("1 validation error detected: Value at 'requestItems."
                                 f"{name}.member.keys' failed to satisfy constraint: Member must "
                                 "have length greater than or equal to 1")
            keys = [t.schema.key_of_key(k) for k in spec["Keys"]]
            if len(set(keys)) != len(keys):
                raise validation("Provided list of item keys contains duplicates")
            projection = self._projection(spec)
            consistent = _bool(spec, "ConsistentRead")
            out = responses[name] = []
            for i, k in enumerate(keys):
                if size_left is None:  # over the limit already: the rest is left for later
                    unprocessed.setdefault(name, {**spec, "Keys": []})["Keys"].append(
                        spec["Keys"][i])
                    continue
                it = t.engine.get(self.region, k, consistent)
                if it is None:
                    continue
                size = attrs.item_size(it)
                if size > size_left:
                    # "BatchGetItem returns a partial result if the response size limit
                    # (16 MB) is exceeded ... and an appropriate UnprocessedKeys value"
                    size_left = None
                    unprocessed.setdefault(name, {**spec, "Keys": []})["Keys"].append(
                        spec["Keys"][i])
                    continue
                size_left -= size
                out.append(projection(it) if projection else it)
        return {"Responses": responses, "UnprocessedKeys": unprocessed}

    def batch_write_item(self, req: dict) -> dict:
        ri = req.get("RequestItems")
        if not isinstance(ri, dict) or not ri:
            raise validation("1 validation error detected: Value null at 'requestItems' failed to "
                             "satisfy constraint: Member must not be null")
        plan: list[tuple[GlobalTable, Mutation]] = []
        count = 0
        for name, reqs in ri.items():
            t = self._named(name)
            if not isinstance(reqs, list) or not reqs:
                raise validation("1 validation error detected: Value at 'requestItems' failed to "
                                 "satisfy constraint: Map value must satisfy constraint: [Member "
                                 "must have length less than or equal to 25, Member must have "
                                 "length greater than or equal to 1]")
            seen = set()
            for w in reqs:
                count += 1
                if not isinstance(w, dict) or len(w) != 1:
                    raise validation("Supplied AttributeValue has more than one datatypes set, must "
                                     "contain exactly one of the supported datatypes"
                                     if isinstance(w, dict) and len(w) > 1 else
                                     "1 validation error detected: a WriteRequest must hold one "
                                     "PutRequest or DeleteRequest")
                (kind, body), = w.items()
                if kind == "PutRequest" and isinstance(body, dict):
                    item = attrs.check_item(body.get("Item") if "Item" in body else _missing("item"))
                    key = t.schema.key_of_item(item)
                    attrs.check_item_size(item)
                    t.indexes.check_item(item)
                    m = Mutation(key, t.schema.key_attrs(item), lambda old, item=item: item)
                elif kind == "DeleteRequest" and isinstance(body, dict):
                    k = body.get("Key") if "Key" in body else _missing("key")
                    key = t.schema.key_of_key(k)
                    m = Mutation(key, attrs.check_item(k), lambda old: None)
                else:
                    raise validation("1 validation error detected: a WriteRequest must hold one "
                                     "PutRequest or DeleteRequest")
                if key in seen:
                    raise validation("Provided list of item keys contains duplicates")
                seen.add(key)
                plan.append((t, m))
        if count > BATCH_WRITE_MAX:
            raise validation("1 validation error detected: Value at 'requestItems' failed to "
                             "satisfy constraint: Map value must satisfy constraint: [Member must "
                             "have length less than or equal to 25, Member must have length "
                             "greater than or equal to 1]")
        for t, m in plan:  # each item is its own write (BatchWriteItem is not atomic)
            t.engine.write(self.region, [m])
        return {"UnprocessedItems": {}}

    # ---- transactions --------------------------------------------------------------
    def transact_write_items(self, req: dict) -> dict:
        items = _transact_items(req)
        token = req.get("ClientRequestToken")
        if token is not None and (not isinstance(token, str) or not 1 <= len(token) <= 36):
            raise validation("1 validation error detected: Value at 'clientRequestToken' "
                             "failed to satisfy constraint: Member must have length less "
                             "than or equal to 36 and greater than or equal to 1")
        plan: list[tuple[GlobalTable, Mutation]] = []
        seen = set()
        size = 0
        for entry in items:
            if not isinstance(entry, dict) or len(entry) != 1:
                raise validation("TransactItems can only contain one of Check, Put, Update or Delete")
            (kind, body), = entry.items()
            if kind not in ("ConditionCheck", "Put", "Delete", "Update") or not isinstance(body, dict):
                raise validation("TransactItems can only contain one of Check, Put, Update or Delete")
            t = self._table(body)
            if t.mode == "STRONG":
                raise validation("Transactions are not supported on multi-Region strongly "
                                 "consistent global tables")
            m = self._transact_mutation(kind, body, t)
            if (t.name, m.key) in seen:
                raise validation("Transaction request cannot include multiple operations on one item")
            seen.add((t.name, m.key))
            plan.append((t, m))
            size += _transact_entry_size(kind, body)
        if size > TRANSACTION_BYTES_MAX:
            raise validation("The aggregate size of the items in the transaction cannot exceed "
                             "4 MB")
        lock = self.cluster.regions[self.region].lock
        with lock:
            if token is not None:
                # DynamoDB: a repeated token within 10 minutes is the same request: answered
                # as a success and not applied again; with other parameters, an error
                request = json.dumps(items, sort_keys=True)
                seen = self.tokens.get(token)
                if seen is not None and time.monotonic() - seen[1] < IDEMPOTENCY_WINDOW_S:
                    if seen[0] != request:
                        raise DynamoError("IdempotentParameterMismatchException",
                                          "The request uses the same client token as a "
                                          "previous, but non-identical request.")
                    return {}
            if "transaction-partial-on-cancel" in self.cluster.bugs:
                # BUG (emulator/bugs.py): each item is checked and written in turn; a
                # failed condition cancels the rest, but what came before it stays written.
                _apply_one_by_one(self.region, plan)
                return {}
            # Check everything first: all conditions hold, or nothing is written (ACID in-region).
            reasons: list[dict] = []
            failed = False
            for t, m in plan:
                rep = t.replicas[self.region]
                cur = rep.current(m.key)
                try:
                    m.compute(None if cur is None else cur.item)
                    reasons.append({"Code": "None"})
                except DynamoError as e:
                    failed = True
                    code = "ConditionalCheckFailed" if e.name == "ConditionalCheckFailedException" \
                        else "ValidationError"
                    r = {"Code": code, "Message": e.message}
                    if "Item" in e.extra:
                        r["Item"] = e.extra["Item"]
                    reasons.append(r)
            if failed:
                codes = ", ".join(r["Code"] for r in reasons)
                raise DynamoError("TransactionCanceledException",
                                  f"Transaction cancelled, please refer cancellation reasons for "
                                  f"specific reasons [{codes}]",
                                  extra={"CancellationReasons": reasons})
            later: list = []
            if "transaction-two-step" in self.cluster.bugs and len(plan) > 1:
                # BUG (emulator/bugs.py): the items are applied in two steps, the lock
                # released between them, so a reader in this region can see half of it.
                plan, later = plan[:len(plan) // 2], plan[len(plan) // 2:]
            _apply_transaction(self.region, plan)
            if token is not None:
                now = time.monotonic()
                if len(self.tokens) >= TOKENS_MAX:  # forget the expired ones
                    self.tokens = {k: v for k, v in self.tokens.items()
                                   if now - v[1] < IDEMPOTENCY_WINDOW_S}
                self.tokens[token] = (request, now)
        if later:
            time.sleep(TWO_STEP_GAP_S)
            with lock:
                _apply_transaction(self.region, later)
        return {}

    def _transact_mutation(self, kind: str, body: dict, t: GlobalTable) -> Mutation:
        on_fail = _enum(body, "ReturnValuesOnConditionCheckFailure", ("ALL_OLD", "NONE"), "NONE")
        # The service checks an action's expression parameters before its item or key.
        for field in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            if body.get(field) == {}:
                raise validation(f"{field} must not be empty")
        if kind == "Update":
            upd_text = _opt_str(body, "UpdateExpression")
            if upd_text is None:
                raise validation("1 validation error detected: Value null at 'updateExpression' "
                                 "failed to satisfy constraint: Member must not be null")
            upd = ex.parse_update(upd_text)
            cond_text = _opt_str(body, "ConditionExpression")
            cond = ex.parse_condition(cond_text) if cond_text is not None else None
            ph = ex.Placeholders(body.get("ExpressionAttributeNames"),
                                 body.get("ExpressionAttributeValues"), [upd, cond])
            ex.check_update_paths(upd, ph)
        else:
            check = self._condition(body)
        if kind == "Put":
            item = attrs.check_item(body.get("Item") if "Item" in body else _missing("item"))
            key = t.schema.key_of_item(item)
            attrs.check_item_size(item)
            t.indexes.check_item(item)

            def put(old, item=item, check=check):
                if check is not None and not check(old):
                    raise condition_failed(old if on_fail == "ALL_OLD" else None)
                return item
            return Mutation(key, t.schema.key_attrs(item), put)
        keys = body.get("Key") if "Key" in body else _missing("key")
        key = t.schema.key_of_key(keys)
        keys = attrs.check_item(keys)
        if kind == "Update":
            def update(old, keys=keys):
                if cond is not None and not ex.evaluate(old, cond, ph):
                    raise condition_failed(old if on_fail == "ALL_OLD" else None)
                new = ex.apply_update(dict(old) if old is not None else dict(keys), upd, ph,
                                      t.schema.names)
                attrs.check_item_size(new)
                t.indexes.check_item(new, updating=True)
                return new
            return Mutation(key, keys, update)
        if kind == "ConditionCheck" and check is None:
            raise validation("1 validation error detected: Value null at 'conditionExpression' "
                             "failed to satisfy constraint: Member must not be null")

        def other(old, check=check):
            if check is not None and not check(old):
                raise condition_failed(old if on_fail == "ALL_OLD" else None)
            return UNCHANGED if kind == "ConditionCheck" else None
        return Mutation(key, keys, other)

    def transact_get_items(self, req: dict) -> dict:
        items = _transact_items(req)
        plan = []
        for entry in items:
            body = entry.get("Get") if isinstance(entry, dict) else None
            if not isinstance(body, dict) or len(entry) != 1:
                raise validation("TransactItems can only contain Get")
            t = self._table(body)
            if t.mode == "STRONG":
                raise validation("Transactions are not supported on multi-Region strongly "
                                 "consistent global tables")
            key = t.schema.key_of_key(body.get("Key") if "Key" in body else _missing("key"))
            if any(p[0] is t and p[1] == key for p in plan):
                raise validation("Transaction request cannot include multiple operations on one item")
            plan.append((t, key, self._projection(body)))
        out = []
        units: dict[str, float] = {}
        with self.cluster.regions[self.region].lock:  # one consistent snapshot (ACID in-region)
            for t, key, projection in plan:
                it = t.engine.get(self.region, key, True)
                out.append({} if it is None else {"Item": projection(it) if projection else it})
                # a transactional read costs 2 read units per 4 KB (absent items too)
                units[t.name] = units.get(t.name, 0.0) + 2.0 * max(
                    1, -(-(attrs.item_size(it) if it else 0) // 4096))
        resp: dict[str, Any] = {"Responses": out}
        if req.get("ReturnConsumedCapacity", "NONE") in ("TOTAL", "INDEXES"):
            indexes = req["ReturnConsumedCapacity"] == "INDEXES"
            resp["ConsumedCapacity"] = [
                {"TableName": n, "CapacityUnits": u, "ReadCapacityUnits": u,
                 **({"Table": {"CapacityUnits": u, "ReadCapacityUnits": u}} if indexes else {})}
                for n, u in units.items()]
        return resp

    # ---- small operations ----------------------------------------------------------
    def describe_endpoints(self, req: dict) -> dict:
        return {"Endpoints": [{"Address": f"dynamodb.{self.region}.amazonaws.com",
                               "CachePeriodInMinutes": 1440}]}

    def describe_ttl(self, req: dict) -> dict:
        t = self._table(req)
        spec = t.ttl_attribute
        if spec:
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED",
                                              "AttributeName": spec}}
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}

    def update_ttl(self, req: dict) -> dict:
        t = self._table(req)
        if t.mode == "STRONG":
            raise validation("Time to Live is not supported on multi-Region strongly consistent "
                             "global tables")
        spec = req.get("TimeToLiveSpecification")
        if not isinstance(spec, dict) or not isinstance(spec.get("AttributeName"), str) \
                or not isinstance(spec.get("Enabled"), bool):
            raise validation("1 validation error detected: TimeToLiveSpecification needs "
                             "AttributeName and Enabled")
        t.ttl_attribute = spec["AttributeName"] if spec["Enabled"] else None
        return {"TimeToLiveSpecification": spec}


IDEMPOTENCY_WINDOW_S = 600.0  # ClientRequestToken is remembered for 10 minutes
TOKENS_MAX = 10_000  # tokens kept per region before the expired ones are dropped
TWO_STEP_GAP_S = 0.02  # transaction-two-step: the gap between the two halves


def _apply_transaction(region: str, plan: list) -> None:
    """Write a checked transaction's mutations, one engine write per table."""
    by_table: dict[int, tuple[GlobalTable, list[Mutation]]] = {}
    for t, m in plan:
        by_table.setdefault(id(t), (t, []))[1].append(m)
    for t, ms in by_table.values():
        t.engine.write(region, ms)


def _apply_one_by_one(region: str, plan: list) -> None:
    """transaction-partial-on-cancel (emulator/bugs.py): write a transaction's items in
    request order, each checked just before its write; the first failed condition cancels
    the transaction with the items before it already written."""
    for i, (t, m) in enumerate(plan):
        try:
            t.engine.write(region, [m])
        except DynamoError as e:
            if e.name != "ConditionalCheckFailedException":
                raise
            reasons = [{"Code": "None"}] * len(plan)
            reasons[i] = {"Code": "ConditionalCheckFailed", "Message": e.message}
            codes = ", ".join(r["Code"] for r in reasons)
            raise DynamoError("TransactionCanceledException",
                              f"Transaction cancelled, please refer cancellation reasons for "
                              f"specific reasons [{codes}]",
                              extra={"CancellationReasons": reasons}) from None


def _transact_entry_size(kind: str, body: dict) -> int:
    """Bytes one validated TransactWriteItems entry brings: its item (Put) or its key, plus
    the attribute values its expressions carry."""
    size = attrs.item_size(body["Item"] if kind == "Put" else body["Key"])
    values = body.get("ExpressionAttributeValues") or {}
    return size + sum(attrs.value_size(v) for v in values.values())


def _return_values_choice(req: dict, allowed: tuple[str, ...]) -> str:
    rv = req.get("ReturnValues", "NONE")
    if rv not in allowed:
        raise validation("Return values set to invalid value")
    return rv


def _missing(what: str) -> Any:
    raise validation(f"1 validation error detected: Value null at '{what}' failed to satisfy "
                     "constraint: Member must not be null")


def _transact_items(req: dict) -> list:
    """TransactItems of a transaction request: a list of 1 to 100 entries."""
    items = req.get("TransactItems")
    if not isinstance(items, list) or not items:
        raise validation("1 validation error detected: Value null at 'transactItems' failed to "
                         "satisfy constraint: Member must not be null")
    if len(items) > TRANSACT_MAX:
        raise validation("1 validation error detected at 'transactItems' failed to satisfy "
                         "constraint: Member must have length less than or equal to 100.")
    return items


def _bool(req: dict, name: str, default: bool = False) -> bool:
    v = req.get(name, default)
    if not isinstance(v, bool):
        raise _serial()
    return v


def _return_values(rv: str, old: dict | None, new: dict | None) -> dict | None:
    if rv == "NONE":
        return None
    if rv == "ALL_OLD":
        return old
    if rv == "ALL_NEW":
        return new
    old = old or {}
    new = new or {}
    changed = {k for k in set(old) | set(new)
               if k not in old or k not in new or not attrs.equal(old[k], new[k])}
    if rv == "UPDATED_OLD":
        return {k: old[k] for k in changed if k in old} or None
    return {k: new[k] for k in changed if k in new} or None


def _key_condition(kc: tuple, ph: ex.Placeholders, t: GlobalTable) -> tuple[dict, tuple | None]:
    """Split a KeyConditionExpression into the hash value and an optional range condition."""
    parts = [kc[1], kc[2]] if kc[0] == "and" else [kc]
    if len(parts) > 2 or any(p[0] in ("and", "or", "not", "in") for p in parts):
        raise validation("Invalid operator used in KeyConditionExpression: "
                         + ("OR" if any(p[0] == "or" for p in parts) else "unsupported"))
    hash_value = None
    range_cond = None
    for p in parts:
        path = None
        if p[0] == "cmp":
            a, b = p[2], p[3]
            if a[0] == "path" and b[0] == "value":
                path = a
            elif b[0] == "path" and a[0] == "value":
                path = b
                p = ("cmp", {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(p[1], p[1]), b, a)
        elif p[0] == "between" and p[1][0] == "path":
            path = p[1]
        elif p[0] == "func" and p[1] == "begins_with":
            path = p[2][0]
        if p[0] == "cmp" and p[2][0] == "path" and p[3][0] == "path":
            raise validation("Invalid condition in KeyConditionExpression: Multiple attribute "
                             "names used in one condition")
        if path is None or len(path[1]) != 1:
            raise validation("Query key condition not supported")
        name = ph.name(path[1][0])
        if name == t.schema.hash:
            if p[0] != "cmp" or p[1] != "=" or hash_value is not None:
                raise validation("Query key condition not supported")
            hash_value = ph.values[p[3][1]]
            if next(iter(hash_value)) != t.schema.hash_type:
                raise validation("One or more parameter values were invalid: Condition parameter "
                                 "type does not match schema type")
        elif name == t.schema.range:
            if range_cond is not None or (p[0] == "cmp" and p[1] == "<>"):
                raise validation("Query key condition not supported")
            range_cond = p
        else:
            raise validation(f"Query condition missed key schema element: {t.schema.hash}"
                             if hash_value is None else
                             "Query key condition not supported")
    if hash_value is None:
        raise validation(f"Query condition missed key schema element: {t.schema.hash}")
    _no_empty_key_value(t.schema.hash, [hash_value])
    if range_cond is not None:
        operands = range_cond[3:4] if range_cond[0] == "cmp" else \
            range_cond[2:4] if range_cond[0] == "between" else range_cond[2][1:]
        _no_empty_key_value(t.schema.range, [ph.values[o[1]] for o in operands
                                             if o[0] == "value" and o[1] in ph.values])
    return hash_value, range_cond


def _no_empty_key_value(name: str, values: list[dict]) -> None:
    """A Query's key values may not be empty strings or binaries (the service's Query
    wording, which differs from PutItem's)."""
    for v in values:
        if v.get("S") == "" or v.get("B") == "":
            raise validation("One or more parameter values are not valid. The AttributeValue "
                             "for a key attribute cannot contain an empty string value. Key: "
                             f"{name}")


def _index_select(req: dict, spec: ix.IndexSpec | None, prefix: str) -> None:
    """Select on a Query or Scan: ALL_PROJECTED_ATTRIBUTES only on an index, ALL_ATTRIBUTES
    only on an index projecting ALL (or an LSI, which fetches the rest from the table); a
    ProjectionExpression or AttributesToGet only with SPECIFIC_ATTRIBUTES (the service's
    wording, prefixed on Query)."""
    select = req.get("Select")
    if select is None:
        return
    if spec is None and select == "ALL_PROJECTED_ATTRIBUTES":
        raise validation(f"{prefix}ALL_PROJECTED_ATTRIBUTES can be used only when Querying "
                         "using an IndexName")
    if select not in ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES",
                      "COUNT"):
        return  # _page refuses it with the enum's message
    if select != "SPECIFIC_ATTRIBUTES":
        what = "only the Count" if select == "COUNT" else select
        for param in ("ProjectionExpression", "AttributesToGet"):
            if param in req:
                raise validation(f"{prefix}Cannot specify the {param} when choosing to get {what}")
    if (select == "ALL_ATTRIBUTES" and spec is not None and not spec.local
            and spec.projection["ProjectionType"] != "ALL"):
        raise validation("One or more parameter values were invalid: Select type ALL_ATTRIBUTES "
                         f"is not supported for global secondary index {spec.name} because its "
                         "projection type is not ALL")


def _read_expressions(req: dict, kc: Any) -> tuple[Any, Any, ex.Placeholders]:
    """A Query's or Scan's FilterExpression and ProjectionExpression, parsed, with the
    placeholders of those and of the key condition `kc` (None on a Scan)."""
    filt_text = _opt_str(req, "FilterExpression")
    filt = ex.parse_condition(filt_text, "FilterExpression") if filt_text is not None else None
    proj_text = _opt_str(req, "ProjectionExpression")
    proj = ex.parse_projection(proj_text) if proj_text is not None else None
    ph = ex.Placeholders(req.get("ExpressionAttributeNames"),
                         req.get("ExpressionAttributeValues"), [kc, filt, proj])
    if filt is not None:
        ex.check_operands(filt, ph, "FilterExpression")
    return filt, proj, ph
