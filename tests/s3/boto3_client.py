"""boto3 (newest, default settings: flexible checksums on) against the
Holdfast S3 gateway: put/get/list, multipart through upload_file,
presigned GET and PUT, checksums returned when asked.

Env: S3_ENDPOINT, S3_KEY, S3_SECRET, S3_BUCKET, WORKDIR. Exits non-zero
with the failing step on stderr.
"""
import hashlib
import os
import sys
import urllib.request

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

endpoint, bucket, work = os.environ["S3_ENDPOINT"], os.environ["S3_BUCKET"], os.environ["WORKDIR"]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    aws_access_key_id=os.environ["S3_KEY"],
    aws_secret_access_key=os.environ["S3_SECRET"],
    region_name="us-east-1",
    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
)


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


# put / get / head with the default checksum (CRC32 since boto3 1.36).
body = b"boto3 says hello\n" * 1000
put = s3.put_object(Bucket=bucket, Key="boto/hello.txt", Body=body, ContentType="text/plain", Metadata={"who": "boto3"})
check(put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest(), f"ETag is the MD5: {put['ETag']}")
got = s3.get_object(Bucket=bucket, Key="boto/hello.txt", ChecksumMode="ENABLED")
check(got["Body"].read() == body, "get returns the bytes")
check(got["Metadata"] == {"who": "boto3"}, f"metadata: {got['Metadata']}")
check(got["ContentType"] == "text/plain", "content type")
sums = [k for k in got if k.startswith("Checksum") and k != "ChecksumType"]
check(sums, f"a checksum comes back when asked: {list(got)}")

# An explicit SHA256 as well.
s3.put_object(Bucket=bucket, Key="boto/sha.bin", Body=b"x" * 5000, ChecksumAlgorithm="SHA256")
head = s3.head_object(Bucket=bucket, Key="boto/sha.bin", ChecksumMode="ENABLED")
check("ChecksumSHA256" in head, f"SHA256 returned: {head}")

# list with a paginator (max 2 per page).
for i in range(5):
    s3.put_object(Bucket=bucket, Key=f"boto/list/{i}", Body=b"%d" % i)
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="boto/list/", PaginationConfig={"PageSize": 2}):
    keys += [o["Key"] for o in page.get("Contents", [])]
check(keys == [f"boto/list/{i}" for i in range(5)], f"paginated listing: {keys}")

# multipart through the transfer manager (20 MiB in 8 MiB parts).
big = os.path.join(work, "big.bin")
with open(big, "wb") as f:
    f.write(os.urandom(20 * 1024 * 1024))
cfg = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
s3.upload_file(big, bucket, "boto/big.bin", Config=cfg)
head = s3.head_object(Bucket=bucket, Key="boto/big.bin")
check(head["ETag"].endswith('-3"'), f"multipart ETag: {head['ETag']}")
back = os.path.join(work, "big.back")
s3.download_file(bucket, "boto/big.bin", back, Config=cfg)
check(open(big, "rb").read() == open(back, "rb").read(), "multipart round trip")

# presigned GET and PUT with plain urllib.
url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "boto/hello.txt"}, ExpiresIn=300)
check(urllib.request.urlopen(url).read() == body, "presigned GET")
# boto3 presigns with SigV2 by default (above); SigV4 as configured by most.
v4 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    aws_access_key_id=os.environ["S3_KEY"],
    aws_secret_access_key=os.environ["S3_SECRET"],
    region_name="us-east-1",
    config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
)
url = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "boto/presigned.txt"}, ExpiresIn=300)
check("X-Amz-Signature" in url, f"a SigV4 URL: {url}")
req = urllib.request.Request(url, data=b"put by url", method="PUT")
check(urllib.request.urlopen(req).status == 200, "presigned PUT")
check(s3.get_object(Bucket=bucket, Key="boto/presigned.txt")["Body"].read() == b"put by url", "presigned PUT stored")

# errors come back as S3 codes.
try:
    s3.get_object(Bucket=bucket, Key="boto/missing")
    check(False, "missing key raises")
except s3.exceptions.NoSuchKey:
    pass
print("boto3 ok", boto3.__version__)
