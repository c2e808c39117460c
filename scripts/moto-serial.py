"""moto's DynamoDB served one request at a time: `moto-serial.py -H 127.0.0.1 -p PORT`.

moto_server is threaded, and its TransactWriteItems checks conditions and then writes
without a lock, so two concurrent writes conditioned on the same version can both pass
(seen: a lost update in 1 of 33 rounds of concurrent PATCHes). DynamoDB itself never allows
that; the DynamoRepo adapter's compare-and-set relies on it. Serving requests one at a time
gives the emulator DynamoDB's serializable conditional writes; the tests stay concurrent on
the client side.

moto's Query also scans and sorts the whole table for every call (`Table.all_items()`), so
its time grows with the table, not with what the Query reads: about 23 µs per item of the
table (117 ms for one partition of a 5,000-item table), where DynamoDB reads only the
partition asked for. `partition_queries()` below makes a Query of the table (not of an index)
start from its partition's items only. The results are the same: moto's own code then sorts,
pages, applies the key condition, the filter and the projection as before.

Within the partition, moto then sizes every item (`Item.size()`, which walks every nested map)
before it applies the sort-key condition, so a Query of a few items of a large partition costs
as much as reading the whole partition. DynamoDB reads only the sort-key range asked for, so the
shim also keeps only the items the key condition selects (the same `compare` moto applies next),
which makes moto's time follow what a Query reads, as DynamoDB's does.
"""
import argparse

from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def partition_queries():
    """Table.query on the table itself reads `all_items()` only to keep the items of one hash
    key; hand it that partition instead (an instance attribute shadows the method for the
    call; requests are served one at a time, so nothing else sees it)."""
    query = Table.query

    def partition_query(self, hash_key, *args, **kwargs):
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        found = self.items.get(hash_key)
        partition = [] if found is None else list(found.values()) if self.range_key_attr else [found]
        comparison = args[0] if args else kwargs.get("range_comparison")
        bounds = args[1] if len(args) > 1 else kwargs.get("range_objs")
        if comparison and self.range_key_attr:
            partition = [item for item in partition if item.range_key.compare(comparison, bounds)]
        self.all_items = lambda: partition
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = partition_query


partition_queries()

parser = argparse.ArgumentParser()
parser.add_argument("-H", "--host", default="127.0.0.1")
parser.add_argument("-p", "--port", type=int, required=True)
args = parser.parse_args()
run_simple(
    args.host,
    args.port,
    DomainDispatcherApplication(create_backend_app),
    threaded=False,
    request_handler=MotoRequestHandler,
)
