"""Notify over HTTP: the ops routes (delivery state, requeue, link revocation). The customers'
status page that notify's process serves spans dispatch and quality, so it lives in the
composition root (app/status_page) and is added to notify's routes there."""


from services.notify.api.ops import router

__all__ = ["router"]
