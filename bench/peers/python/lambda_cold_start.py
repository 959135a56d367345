"""Cold-start peer: what a Python Lambda does before its first poll for an event.

usage: lambda_cold_start.py CLIENT...   (boto3 client names, e.g. s3 sqs)

Imports boto3 and creates the clients at module level, as Python handlers do, then polls the
Runtime API once, as the runtime's bootstrap does. The bootstrap's own start-up (awslambdaric)
is left out, which flatters the peer.
"""

import os
import sys
import urllib.request

import boto3

CLIENTS = [boto3.client(name) for name in sys.argv[1:]]

urllib.request.urlopen(f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime/invocation/next")
