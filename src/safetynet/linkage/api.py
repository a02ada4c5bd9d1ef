"""Linkage review queue endpoints (capability linkage.review, given to province-level roles:
the queue is province-wide). Names and id numbers are always masked; decisions are made
in the signed-in user's name and audited."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel

from safetynet.audit.service import record as audit_record
from safetynet.identity import mask_id_number, mask_name
from safetynet.linkage import service

router = APIRouter(prefix="/linkage", tags=["linkage 记录关联"])


class Decision(BaseModel):
    actor: str = "api"


def _masked(item: dict) -> dict:
    row = item["row"]
    return {
        "id": item["id"], "quarantine_id": item["quarantine_id"], "feed": item["feed"],
        "record_id": item["record_id"], "rank": item["rank"], "status": item["status"],
        "match_probability": item["match_probability"], "match_weight": item["match_weight"],
        "row": {"name": mask_name(row.get("name") or ""), "birth_date": row.get("birth_date"),
                "region": row.get("region"),
                "id_number": mask_id_number(row["id_number"]) if row.get("id_number") else None},
        "person": {"name": mask_name(item["person_name"]), "birth_date": item["person_birth_date"],
                   "id_number": mask_id_number(item["person_id_number"])},
        "created_at": item["created_at"], "decided_at": item["decided_at"], "decided_by": item["decided_by"],
    }


@router.get("/candidates")
def candidates(request: Request, status: str = "pending", limit: int = Query(50, ge=1, le=500),
               offset: int = Query(0, ge=0)) -> dict:
    page = service.list_candidates(request.app.state.engine, status=status, limit=limit, offset=offset)
    return page | {"items": [_masked(i) for i in page["items"]]}


def _decide(fn, request: Request, candidate_id: int, decision: Decision | None) -> dict:  # noqa: ANN001
    # The platform mounts this router behind require("linkage.review"): the signed-in user
    # decides (a body `actor` only counts where the router is mounted without sign-in).
    user = getattr(request.state, "user", None)
    actor = user.username if user is not None else (decision or Decision()).actor
    try:
        out = fn(request.app.state.engine, candidate_id, actor)
    except service.CandidateError as e:
        status = 404 if "no link candidate" in str(e) else 409
        raise HTTPException(status, str(e)) from None
    if user is not None:
        audit_record(request.app.state.engine, actor=user, action="write", object_type="link_candidate",
                     object_id=str(candidate_id), fields=["status"], detail=out.get("status"))
    return out


@router.post("/candidates/{candidate_id}/accept")
def accept(candidate_id: int, request: Request, decision: Decision | None = None) -> dict:
    out = _decide(service.accept, request, candidate_id, decision)
    return out | {"id_number": mask_id_number(out["id_number"])}


@router.post("/candidates/{candidate_id}/reject")
def reject(candidate_id: int, request: Request, decision: Decision | None = None) -> dict:
    return _decide(service.reject, request, candidate_id, decision)
