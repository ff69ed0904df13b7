"""Notify over HTTP: the ops routes (delivery state, requeue, link revocation) and the
customers' status page (no login: the signed link is the credential)."""

from fastapi import APIRouter

from services.notify.api.ops import router as ops
from services.notify.api.status import router as status

router = APIRouter()
router.include_router(ops)
router.include_router(status)
