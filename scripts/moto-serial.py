"""moto's DynamoDB served one request at a time: `moto-serial.py -H 127.0.0.1 -p PORT`.

moto_server is threaded, and its TransactWriteItems checks conditions and then writes
without a lock, so two concurrent writes conditioned on the same version can both pass
(seen: a lost update in 1 of 33 rounds of concurrent PATCHes). DynamoDB itself never allows
that; the DynamoRepo adapter's compare-and-set relies on it. Serving requests one at a time
gives the emulator DynamoDB's serializable conditional writes; the tests stay concurrent on
the client side.
"""
import argparse

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

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
