"""`POST /v1/classify`: label texts with the classifier the server was started with
(`yuyi serve --classifier DIR`, a `yuyi classify train` folder for the served model)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from yuyi.serve.auth import caller
from yuyi.serve.errors import ApiError
from yuyi.serve.runtime import Runtime, runtime
from yuyi.serve.types import Text

router = APIRouter(tags=["classify"], dependencies=[Depends(caller)])


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: Text | list[Text] = Field(..., description="A text or a list of texts, any language the model reads.")


class Label(BaseModel):
    index: int
    label: str
    score: float = Field(..., description="The classifier's probability for that label.")


class ClassifyResponse(BaseModel):
    model: str
    labels: list[str] = Field(..., description="Every label the classifier knows.")
    results: list[Label]


@router.post("/v1/classify", response_model=ClassifyResponse)
async def classify(body: ClassifyRequest, rt: Runtime = Depends(runtime)):
    """The most probable label of each text, with its probability."""
    clf = rt.classifier
    if clf is None:
        raise ApiError(400, "classifier_unavailable", "this server has no classifier; start it with "
                       "yuyi serve --classifier DIR (a yuyi classify train folder)")
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts:
        raise ApiError(422, "invalid_request", "input is empty")
    if len(texts) > rt.settings.max_inputs:
        raise ApiError(413, "too_many_inputs", f"at most {rt.settings.max_inputs} texts a request")
    vectors, _ = await rt.batcher.submit(texts, "query")
    return ClassifyResponse(model=clf.model, labels=clf.labels,
                            results=[Label(index=i, label=label, score=score)
                                     for i, (label, score) in enumerate(clf.predict(vectors))])
