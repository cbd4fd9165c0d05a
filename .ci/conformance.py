#!/usr/bin/env python3
"""Conformance: run schemathesis against the served OpenAPI document of a real server.

Starts the built `tarozi serve` on a private PostgreSQL cluster in a temporary folder, seeds
a small world through the API (a region, a pharmacy with stock, a wholesaler, users per
role), generates a Python client from the served document (openapi-python-client) and
drives it, then runs schemathesis once per token (admin, regulator, pharmacy) with the checks
the contract promises. Exits non-zero on any failure.

    python3 .ci/conformance.py [--binary target/debug/tarozi] [--max-examples 25]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# negative_data_rejection applies wherever the server refuses a request that breaks its
# schema. A dispensing batch does not: it answers 200 with each record's outcome, a record
# that breaks the record schema rejected alone (by design), so that one operation runs
# without that check.
PER_RECORD = "record_dispensings"
PASSWORD = "conformance-password-1234"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def expect(result, status, what):
    if result[0] != status:
        sys.exit(f"seeding failed at {what}: {result[0]} {result[1]}")
    return result[1]


def login(base, username):
    return expect(call(base, "POST", "/api/v1/auth/login", {"username": username, "password": PASSWORD}), 200, f"login {username}")["access_token"]


def seed(base):
    admin = login(base, "admin")
    region = expect(call(base, "POST", "/api/v1/regions", {"country_code": "KZ", "name": "Almaty city", "code": "ALA"}, admin), 201, "region")["region"]["id"]
    expect(call(base, "PUT", f"/api/v1/regions/{region}/population", {"year": 2026, "total": 2200000, "source": "conformance seed"}, admin), 200, "population")
    facilities = {}
    for kind, name in [("pharmacy", "Dari-Darmek 7"), ("wholesaler", "Kazpharm")]:
        body = {"name": name, "kind": kind, "licence_number": f"LIC-{kind}", "licence_valid_until": "2099-12-31", "region_id": region}
        facilities[kind] = expect(call(base, "POST", "/api/v1/facilities", body, admin), 201, kind)["facility"]["id"]
    substances = expect(call(base, "GET", "/api/v1/substances?per_page=1000", None, admin), 200, "substances")["substances"]
    morphine = next(s["id"] for s in substances if s["inn"] == "morphine")
    product = {"name": "Morphine sulfate 10 mg tablet", "substance_id": morphine, "base_mg_per_unit": "7.5", "dosage_form": "tablet", "unit": "tablet"}
    product_id = expect(call(base, "POST", "/api/v1/products", product, admin), 201, "product")["product"]["id"]
    users = {
        "regulator": {"role": "regulator", "country_code": "KZ"},
        "ministry": {"role": "ministry", "country_code": "KZ"},
        "pharmacist": {"role": "pharmacy", "facility_id": facilities["pharmacy"]},
    }
    for username, fields in users.items():
        expect(call(base, "POST", "/api/v1/users", {"username": username, "password": PASSWORD, **fields}, admin), 201, f"user {username}")
    pharmacy = login(base, "pharmacist")
    event = {"kind": "receipt", "product_id": product_id, "quantity_units": 1000, "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86400))}
    expect(call(base, "POST", f"/api/v1/facilities/{facilities['pharmacy']}/stock-events", event, pharmacy), 201, "stock")
    return {"admin": admin, "regulator": login(base, "regulator"), "pharmacy": pharmacy}


def generated_client_works(base, data_dir, generator):
    """Generates a Python client from the served document, as a vendor would, and drives it:
    every operation must be generated, and a login and a product created through it must
    answer with the documented, parsed types."""
    with urllib.request.urlopen(base + "/openapi.json", timeout=30) as r:
        document = json.loads(r.read())
    spec = os.path.join(data_dir, "served-openapi.json")
    with open(spec, "w") as f:
        json.dump(document, f)
    out = os.path.join(data_dir, "client")
    os.makedirs(out)
    subprocess.run([generator, "generate", "--path", spec, "--meta", "none", "--overwrite"], cwd=out, check=True,
                   stdout=subprocess.DEVNULL)
    package = os.path.join(out, "tarozi_api_client")
    generated = sum(1 for root, _, files in os.walk(os.path.join(package, "api")) for f in files if f.endswith(".py") and f != "__init__.py")
    operations = sum(1 for item in document["paths"].values() for m in item if m in ("get", "post", "put", "patch", "delete"))
    if generated != operations:
        sys.exit(f"the generated client has {generated} of the document's {operations} operations")
    sys.path.insert(0, out)
    from tarozi_api_client import AuthenticatedClient, Client
    from tarozi_api_client.api.auth import login
    from tarozi_api_client.api.reference_data import create_product, list_substances
    from tarozi_api_client.models import DosageForm, LoginRequest, NewProductRequest, ProductEnvelope, TokenResponse, Unit

    answer = login.sync_detailed(client=Client(base_url=base), body=LoginRequest(username="admin", password=PASSWORD))
    if answer.status_code != 200 or not isinstance(answer.parsed, TokenResponse):
        sys.exit(f"login through the generated client: {answer.status_code} {answer.content[:300]!r}")
    client = AuthenticatedClient(base_url=base, token=answer.parsed.access_token)
    substances = list_substances.sync_detailed(client=client, per_page=1000)
    morphine = next(s.id for s in substances.parsed.substances if s.inn == "morphine")
    body = NewProductRequest(name="Morphine 30 mg ampoule (generated client)", substance_id=morphine, base_mg_per_unit="22.5",
                             dosage_form=DosageForm.INJECTION, unit=Unit.AMPOULE)
    created = create_product.sync_detailed(client=client, body=body)
    if created.status_code != 201 or not isinstance(created.parsed, ProductEnvelope):
        sys.exit(f"create_product through the generated client: {created.status_code} {created.content[:300]!r}")
    print(f"generated client: {generated} operations; login and create_product answered as documented")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default="target/debug/tarozi")
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("TAROZI_CONFORMANCE_EXAMPLES", "25")))
    parser.add_argument("--schemathesis", default=shutil.which("st") or "st")
    parser.add_argument("--client-generator", default=shutil.which("openapi-python-client") or "openapi-python-client")
    parser.add_argument("--keep", action="store_true", help="keep the data folder and the reports")
    args = parser.parse_args()

    # Not under /root: when run as root, the private cluster runs as the postgres user.
    data_dir = tempfile.mkdtemp(prefix="tarozi-conformance-", dir="/tmp")
    os.chmod(data_dir, 0o755)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, TAROZI_ADMIN_PASSWORD=PASSWORD, TAROZI_LOG="warn", TAROZI_SCAN_INTERVAL_HOURS="0")
    env.pop("DATABASE_URL", None)
    log = open(os.path.join(data_dir, "server.log"), "w")
    server = subprocess.Popen([args.binary, "serve", "--bind", f"127.0.0.1:{port}", "--data-dir", data_dir], env=env, stdout=log, stderr=subprocess.STDOUT)
    failed = []
    try:
        deadline = time.time() + 120
        while True:
            try:
                if call(base, "GET", "/ready")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.time() > deadline:
                sys.exit(f"the server did not become ready; see {data_dir}/server.log")
            time.sleep(0.5)
        tokens = seed(base)
        generated_client_works(base, data_dir, args.client_generator)
        for role, token in tokens.items():
            common = [
                args.schemathesis, "run", f"{base}/openapi.json",
                "--max-examples", str(args.max_examples),
                "--seed", "20261201",
                "--workers", "2",
                "--request-timeout", "30",
                "-H", f"Authorization: Bearer {token}",
            ]
            runs = [
                (role, ["--checks", CHECKS + ",negative_data_rejection", "--exclude-path", "/api/v1/auth/login", "--exclude-operation-id", PER_RECORD]),
                (f"{role}-batch", ["--checks", CHECKS, "--include-operation-id", PER_RECORD]),
            ]
            for name, extra in runs:
                print(f"== schemathesis as {name}", flush=True)
                report = ["--report", "junit", "--report-dir", os.path.join(data_dir, f"report-{name}")]
                if subprocess.run(common + extra + report).returncode != 0:
                    failed.append(name)
        # Login is unauthenticated and throttled: fuzz it on its own, with a few examples.
        print("== schemathesis on login", flush=True)
        command = [args.schemathesis, "run", f"{base}/openapi.json", "--checks", CHECKS + ",negative_data_rejection", "--max-examples", "10", "--seed", "20261201",
                   "--include-path", "/api/v1/auth/login", "--report", "junit", "--report-dir", os.path.join(data_dir, "report-login")]
        if subprocess.run(command).returncode != 0:
            failed.append("login")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        if not failed and not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    if failed:
        sys.exit(f"conformance failed for: {', '.join(failed)} (reports and server log in {data_dir})")
    print("conformance: passed for admin, regulator, pharmacy and login")


if __name__ == "__main__":
    main()
