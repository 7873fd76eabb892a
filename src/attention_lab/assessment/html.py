"""A self-contained HTML + JavaScript practice quiz for the static course site.

`quiz_html()` returns one HTML document (or fragment) with the questions, figures (PNG data URIs),
styles and script inline: no external resources, so it works offline and from ``file://``. It
scores answers in the browser with the same rules as `attention_lab.assessment.scoring` (tests
compare the two), gives feedback at once, and lets the learner download an answers file in
the same JSON format as the notebook and terminal quizzes. It is marked as practice: official
grades come from the batch grader and the instructor's LMS.
"""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Sequence

from attention_lab.assessment.bank import bank_version, load_questions
from attention_lab.assessment.figures import figure_data_uri, get_figure
from attention_lab.assessment.schema import Question
from attention_lab.assessment.scoring import ANSWERS_FORMAT
from attention_lab.viz.describe import describe_matrix, matrix_table_html, numbers_details


def _figure_text(name: str) -> tuple[str, str]:
    """A question figure's alt text and its numbers (a collapsed table), from its weights."""
    figure = get_figure(name)
    words, tables = [], []
    for panel, weights in figure.panels.items():
        label = f"Panel {panel}" if panel else figure.title
        words.append(f"{label}: " + describe_matrix(weights, figure.queries, figure.keys))
        tables.append(
            matrix_table_html(
                weights, figure.queries, figure.keys, caption=label, corner="query \\ key"
            )
        )
    return f"{figure.title}. " + " ".join(words), numbers_details(tables, "The weights as a table")


def _question_data(q: Question) -> dict:
    data: dict = {
        "id": q.id,
        "type": q.type,
        "objectives": list(q.objectives),
        "points": q.points,
        "prompt": " ".join(q.prompt.split()),
        "explanation": " ".join(q.explanation.split()),
        "figure": figure_data_uri(q.figure) if q.figure else None,
    }
    if q.figure:
        data["figure_alt"], data["figure_table"] = _figure_text(q.figure)
    if q.type in ("single", "multiple"):
        data["choices"] = [
            {"id": c.id, "text": c.text, "correct": c.correct, "feedback": c.feedback}
            for c in q.choices
        ]
    else:
        data["feedback_correct"] = q.feedback_correct
        data["feedback_incorrect"] = q.feedback_incorrect
        data["wrong_answers"] = [
            {"value": w.value, "tolerance": w.tolerance, "feedback": w.feedback}
            for w in q.wrong_answers
        ]
    if q.type == "numeric":
        data |= {"answer": q.answer, "tolerance": q.tolerance}
    if q.type == "text":
        data["accept"] = list(q.accept)
    return data


_STYLE = """
.al-quiz{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:52rem;margin:auto;line-height:1.45;background:#fff;color:#1b1b1b;padding:.2rem .6rem}
.al-quiz .al-banner{background:#fff8e1;border:1px solid #f0c36d;padding:.6rem .9rem;border-radius:6px;color:#3b2f00}
.al-quiz .al-card{border:1px solid #ccd;border-radius:8px;padding:.8rem 1rem;margin:1rem 0}
.al-quiz .al-meta{color:#4a4a5a;font-size:.85em}
.al-quiz h1,.al-quiz h2,.al-quiz legend{color:inherit}
.al-quiz fieldset.al-card{min-width:0}
.al-quiz legend.al-prompt{padding:0 .3rem;font-weight:600}
.al-quiz .al-sr{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.al-quiz :focus-visible{outline:3px solid #1a56c4;outline-offset:2px}
.al-quiz table.al-numbers{border-collapse:collapse;margin:.4rem 0}
.al-quiz table.al-numbers th,.al-quiz table.al-numbers td{border:1px solid #ccd;padding:.1rem .4rem;text-align:right}
.al-quiz label{display:block;margin:.2rem 0;cursor:pointer}
.al-quiz img{max-width:100%;margin:.5rem 0}
.al-quiz .al-feedback{margin-top:.6rem;padding:.5rem .7rem;border-radius:6px;white-space:pre-line}
.al-quiz .al-right{background:#e6f4ea;border:1px solid #8bc59b;color:#0d3b1a}
.al-quiz .al-wrong{background:#fdecea;border:1px solid #e59b95;color:#5c1410}
.al-quiz .al-partial{background:#fff4e5;border:1px solid #f0b76d;color:#4a2f00}
.al-quiz button{margin-top:.5rem;padding:.3rem .9rem}
.al-quiz .al-score{font-weight:600}
"""

# The scoring below mirrors attention_lab.assessment.scoring.check_answer; a test runs both.
_SCRIPT = r"""
(function(){
const root = document.getElementById(ROOT_ID);
const bank = JSON.parse(document.getElementById(ROOT_ID + "-data").textContent);
const FORMAT = bank.format;
const state = {learner: "", started: new Date().toISOString(), answers: {}};
function el(tag, attrs, text){const e=document.createElement(tag);
  for (const k in (attrs||{})) e.setAttribute(k, attrs[k]); if (text!==undefined) e.textContent=text; return e;}
function shuffle(a){a=a.slice(); for(let i=a.length-1;i>0;i--){const j=Math.floor(Math.random()*(i+1)); [a[i],a[j]]=[a[j],a[i]];} return a;}
function norm(s){s=String(s).normalize("NFKC").toLowerCase().trim().replace(/\s+/g," ");
  return s.replace(/^[ .,;:!?"'`]+|[ .,;:!?"'`]+$/g,"");}
function num(s){if(typeof s==="number") return isFinite(s)?s:null; s=String(s).trim().replace(/,/g,"");
  if(!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return null; const v=parseFloat(s); return isFinite(v)?v:null;}
function check(q, r){
  if(q.type==="single"){const c=q.choices.find(c=>c.id===r); if(!c) return {correct:false,score:0,message:"Choose one of the options."};
    return {correct:c.correct,score:c.correct?q.points:0,message:c.feedback};}
  if(q.type==="multiple"){if(!Array.isArray(r)) return {correct:false,score:0,message:"Select the options that apply."};
    const right=q.choices.filter(c=>c.correct).map(c=>c.id); const chosen=new Set(r);
    let hit=0, miss=0; chosen.forEach(id=>{ if(right.includes(id)) hit++; else miss++; });
    const frac=Math.max(0,(hit-miss)/right.length); const lines=[];
    q.choices.filter(c=>chosen.has(c.id)).forEach(c=>lines.push(c.text+": "+c.feedback));
    const missed=right.filter(id=>!chosen.has(id)).length;
    if(missed) lines.push("You missed "+missed+" correct option"+(missed>1?"s":"")+".");
    if(!chosen.size) lines.push("You selected nothing.");
    const exact = missed===0 && miss===0;
    return {correct:exact,score:Math.round(q.points*frac*1e4)/1e4,message:lines.join("\n")};}
  if(q.type==="numeric"){const v=num(r); if(v===null) return {correct:false,score:0,message:"Enter a number (got '"+r+"')."};
    if(Math.abs(v-q.answer)<=q.tolerance+1e-9*Math.max(1,Math.abs(q.answer))) return {correct:true,score:q.points,message:q.feedback_correct};
    for(const w of q.wrong_answers){ if(Math.abs(v-w.value)<=w.tolerance+1e-9) return {correct:false,score:0,message:w.feedback}; }
    return {correct:false,score:0,message:q.feedback_incorrect};}
  const g=norm(r||"");
  if(g && q.accept.map(norm).includes(g)) return {correct:true,score:q.points,message:q.feedback_correct};
  for(const w of q.wrong_answers){ if(g===norm(w.value)) return {correct:false,score:0,message:w.feedback}; }
  return {correct:false,score:0,message:q.feedback_incorrect};
}
const total = bank.questions.reduce((s,q)=>s+q.points,0);
const scoreLine = el("p",{"class":"al-score"});
function updateScore(){let s=0,n=0; for(const id in state.answers){s+=state.answers[id].score;n++;}
  scoreLine.textContent="Practice score: "+(Math.round(s*100)/100)+" / "+total+" ("+n+" of "+bank.questions.length+" answered)";}
root.appendChild(el("p",{"class":"al-banner"},"Practice quiz: answers are checked in your browser and nothing is sent anywhere. Official grades come from your instructor's LMS quiz and the batch grader."));
const nameRow=el("p"); const nameLabel=el("label",{},"Your name or id (for the answers file): ");
const nameInput=el("input",{"type":"text","class":"al-learner"}); nameInput.addEventListener("input",()=>{state.learner=nameInput.value;});
nameLabel.appendChild(nameInput); nameRow.appendChild(nameLabel); root.appendChild(nameRow); root.appendChild(scoreLine);
shuffle(bank.questions).forEach((q,index)=>{
  // a fieldset groups the question with its choices: a screen reader names the question (legend)
  const card=el("fieldset",{"class":"al-card","data-qid":q.id});
  card.appendChild(el("legend",{"class":"al-prompt"},"Question "+(index+1)+": "+q.prompt));
  card.appendChild(el("p",{"class":"al-meta"},"Objectives "+q.objectives.join(", ")+" · "+q.points+" point"+(q.points===1?"":"s")));
  if(q.figure){card.appendChild(el("img",{"src":q.figure,"alt":q.figure_alt}));
    const numbers=el("div"); numbers.innerHTML=q.figure_table; card.appendChild(numbers);}
  let read;
  if(q.type==="single"||q.type==="multiple"){
    const kind=q.type==="single"?"radio":"checkbox"; const inputs=[];
    shuffle(q.choices).forEach(c=>{const lab=el("label"); const inp=el("input",{"type":kind,"name":ROOT_ID+"-"+q.id,"value":c.id});
      inputs.push(inp); lab.appendChild(inp); lab.appendChild(document.createTextNode(" "+c.text)); card.appendChild(lab);});
    read=()=>{const v=inputs.filter(i=>i.checked).map(i=>i.value); return q.type==="single"?(v[0]||null):v;};
  } else {
    const lab=el("label",{},"Your answer: "); const inp=el("input",{"type":"text","class":"al-answer"});
    lab.appendChild(inp); card.appendChild(lab); read=()=>inp.value;
  }
  const button=el("button",{"type":"button","class":"al-check","aria-label":"Check question "+(index+1)},"Check"); card.appendChild(button);
  const fb=el("div",{"class":"al-feedback","hidden":"hidden"}); card.appendChild(fb);
  // the feedback is announced from a live region that is always there (a region shown only
  // when it changes is not read out reliably)
  const said=el("p",{"class":"al-sr al-said","aria-live":"polite"}); card.appendChild(said);
  button.addEventListener("click",()=>{const r=read(); const res=check(q,r);
    state.answers[q.id]={response:(q.type==="numeric"&&num(r)!==null)?num(r):r,score:res.score,points:q.points,time:new Date().toISOString()};
    fb.hidden=false; fb.className="al-feedback "+(res.correct?"al-right":(res.score>0?"al-partial":"al-wrong"));
    fb.textContent=(res.correct?"Correct. ":(res.score>0?"Partly correct. ":"Not quite. "))+res.message+"\n\nWhy: "+q.explanation;
    updateScore(); said.textContent="Question "+(index+1)+": "+fb.textContent+" "+scoreLine.textContent;});
  root.appendChild(card);
});
const save=el("button",{"type":"button","class":"al-save"},"Download my answers (JSON)");
save.addEventListener("click",()=>{const sheet={format:FORMAT,learner:state.learner||"anonymous",mode:"practice",
    bank_version:bank.bank_version,started:state.started,saved:new Date().toISOString(),answers:state.answers};
  const blob=new Blob([JSON.stringify(sheet,null,1)],{type:"application/json"}); const a=el("a");
  a.href=URL.createObjectURL(blob); a.download="quiz-answers-"+(state.learner||"anonymous").replace(/[^A-Za-z0-9_-]/g,"_")+".json";
  document.body.appendChild(a); a.click(); a.remove(); root.dataset.lastSheet=JSON.stringify(sheet);});
root.appendChild(save); updateScore();
})();
"""


def quiz_html(
    questions: Sequence[Question] | None = None,
    *,
    title: str = "Module 3 practice quiz",
    full_document: bool = True,
) -> str:
    """A self-contained HTML practice quiz (no external resources) with instant feedback.

    `questions` defaults to the whole bank. With ``full_document=False`` the result is a
    fragment (a <div>, its data, style and script) for embedding in a page or notebook output.
    """
    questions = list(questions) if questions is not None else load_questions()
    if not questions:
        raise ValueError("questions: expected at least one question, got an empty list")
    root_id = "al-quiz-" + uuid.uuid4().hex[:8]
    payload = {
        "format": ANSWERS_FORMAT,
        "bank_version": bank_version(),
        "questions": [_question_data(q) for q in questions],
    }
    # "</" must not appear inside a <script> element: escape it in the JSON.
    data = json.dumps(payload, ensure_ascii=False).replace("</", "<\\/")
    script = _SCRIPT.replace("ROOT_ID", json.dumps(root_id))
    heading = "h1" if full_document else "h2"  # a page's own title, or a section of a page
    fragment = (
        f'<div class="al-quiz" id="{root_id}"><{heading}>{html.escape(title)}</{heading}></div>\n'
        f'<script type="application/json" id="{root_id}-data">{data}</script>\n'
        f"<style>{_STYLE}</style>\n<script>{script}</script>\n"
    )
    if not full_document:
        return fragment
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>\n<body><main>\n{fragment}</main></body></html>\n"
    )
