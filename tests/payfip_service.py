"""A stand-in for the DGFiP's PayFiP web service, speaking SOAP on
localhost from eopayment's own WSDL, answering with recorded responses."""

import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import eopayment

NS = "http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/contrat_paiement_securise/PaiementSecuriseService"
ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?><S:Envelope '
    'xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>{}</S:Body></S:Envelope>'
)


class PayFiPService:
    """`payments[idop]` holds what the DGFiP answers about a payment
    (resultrans P, R, A…, montant in cents…). `on_call(operation)`, if
    given, runs in the server's thread while the caller waits for the answer.
    While `down`, it hangs up without answering."""

    def __init__(self, folder, on_call=None):
        self.payments = {}
        self.created = []
        self.on_call = on_call
        self.down = False
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                if service.down:
                    return
                if service.on_call is not None:
                    service.on_call(
                        re.search(r"<(?:\w+:)?(\w+)[ >]", body.split("Body>", 1)[1]).group(1)
                    )
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.end_headers()
                self.wfile.write(service.answer(body).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        resource = Path(eopayment.__file__).parent / "resource"
        shutil.copytree(resource, folder, dirs_exist_ok=True)
        wsdl = Path(folder) / "PaiementSecuriseService.wsdl"
        port = self.server.server_address[1]
        wsdl.write_text(
            wsdl.read_text().replace(
                "https://www.payfip.gouv.fr/tpa/services/securite",
                f"http://127.0.0.1:{port}/tpa/services/securite",
            )
        )
        self.wsdl_url = wsdl.as_uri()

    def answer(self, body):
        if "creerPaiementSecurise" in body:
            idop = f"idop{len(self.created) + 1:032d}"
            amount = re.search(r"<montant>(\d+)</montant>", body).group(1)
            refdet = re.search(r"<refdet>([^<]+)</refdet>", body).group(1)
            self.created.append({"idop": idop, "montant": amount, "refdet": refdet})
            return ENVELOPE.format(
                f'<ns2:creerPaiementSecuriseResponse xmlns:ns2="{NS}">'
                f"<return><idOp>{idop}</idOp></return>"
                "</ns2:creerPaiementSecuriseResponse>"
            )
        idop = re.search(r"<idOp>([^<]+)</idOp>", body).group(1)
        fields = "".join(f"<{k}>{v}</{k}>" for k, v in self.payments[idop].items())
        return ENVELOPE.format(
            f'<ns2:recupererDetailPaiementSecuriseResponse xmlns:ns2="{NS}">'
            f"<return>{fields}</return>"
            "</ns2:recupererDetailPaiementSecuriseResponse>"
        )

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
