// The checks of deploy/ that need a YAML parser and the Kubernetes schemas
// (run by check_deploy.sh, which installs the packages and runs promtool on
// what this writes):
//
//   node check_deploy.js manifests SOURCE_DIR
//     renders every kustomization under deploy/k8s (its own small renderer:
//     resources, components, namespace, configMapGenerator, images,
//     strategic-merge patches by path; compared with `kubectl kustomize` where kubectl is
//     installed), validates each object against the Kubernetes
//     schemas of npm's kubernetes-models, and checks what the schemas
//     cannot: references between the objects, the HPAs' Pods metrics
//     against the adapter's rules, the PrometheusRule (prometheus-operator
//     schema, and the same groups as the plain rules file), the rules'
//     subscription -> topics list against the services' sources.
//   node check_deploy.js promql SOURCE_DIR OUT_DIR
//     writes OUT_DIR/promql.rules.yml, one recording rule per PromQL
//     expression of the Grafana dashboard and the adapter's query (Grafana
//     and adapter variables replaced by sample values), for `promtool check
//     rules`; checks the dashboard's structure and that every metric and
//     label name the dashboard (queries and legends) and the rules use is
//     one the suite registers.
//   node check_deploy.js scrape SOURCE_DIR OUT_DIR
//     writes OUT_DIR/scrape.yml: the scrape config with its Kubernetes
//     discovery swapped for a static target (Debian's promtool is built
//     without Kubernetes discovery), for `promtool check config`.
//
// Prints one line per problem; exits 1 when there is any, 2 on misuse.
'use strict';

const fs = require('fs');
const path = require('path');
const YAML = require('yaml');

const problems = [];
function problem(where, msg) {
    problems.push(`${where}: ${msg}`);
}

function readYamlDocs(file) {
    const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'));
    const out = [];
    for (const d of docs) {
        if (d.errors.length > 0) {
            problem(file, `YAML: ${d.errors[0].message}`);
            continue;
        }
        const v = d.toJS();
        if (v !== null && v !== undefined)
            out.push(v);
    }
    return out;
}

function walkFiles(dir, pred) {
    let out = [];
    for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
        const p = path.join(dir, e.name);
        if (e.isDirectory())
            out = out.concat(walkFiles(p, pred));
        else if (pred(p))
            out.push(p);
    }
    return out.sort();
}

// ---- metric names the suite registers --------------------------------------

// Every family registered in C (sl_metric_counter/gauge/histogram with a
// literal name), Prometheus's own `up`, and the recording rules' names.
function knownMetrics(src) {
    const names = new Map(); // name -> type
    // Label names: those of the families (the NULL-terminated lists of
    // strings in the files that register them), those the scrape adds
    // (deploy/prometheus/scrape-config.yaml) and histograms' le.
    const labels = new Set(['job', 'instance', 'namespace', 'pod', 'app', 'le']);
    names.labels = labels;
    const files = walkFiles(path.join(src, 'common'), (p) => p.endsWith('.c')).concat(
        walkFiles(path.join(src, 'services'), (p) => p.endsWith('.c')));
    const re = /sl_metric_(counter|gauge|histogram)\(\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"/g;
    for (const f of files) {
        const text = fs.readFileSync(f, 'utf8');
        let m;
        let registers = false;
        while ((m = re.exec(text)) !== null) {
            names.set(m[2], m[1]);
            registers = true;
        }
        if (!registers)
            continue;
        for (const list of text.matchAll(/\{\s*((?:"[a-z_]+"\s*,\s*)+)NULL\s*\}/g))
            for (const l of list[1].matchAll(/"([a-z_]+)"/g))
                labels.add(l[1]);
    }
    names.set('up', 'gauge');
    for (const g of plainRules(src).groups || [])
        for (const r of g.rules || []) {
            if (r.record)
                names.set(r.record, 'recorded');
            for (const m of String(r.expr).matchAll(/label_replace\([\s\S]*?,\s*"([a-zA-Z_]\w*)"/g))
                labels.add(m[1]);
        }
    return names;
}

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right',
    'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'atan2']);

// The metric names an expression selects: what is left once strings,
// label matchers, ranges, grouping clauses, function calls and keywords
// are taken out.
function metricNames(expr) {
    let e = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
    e = e.replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ');
    e = e.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
    const out = [];
    // A whole identifier (the second lookahead stops backtracking into a
    // shorter one) that is not a function's or aggregation's name.
    const re = /(?<![a-zA-Z0-9_:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![a-zA-Z0-9_:])(?!\s*\()/g;
    let m;
    while ((m = re.exec(e)) !== null)
        if (!PROMQL_KEYWORDS.has(m[1].toLowerCase()))
            out.push(m[1]);
    return out;
}

// The label names an expression matches on or groups by.
function labelNames(expr) {
    const e = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
    const out = [];
    for (const m of e.matchAll(/\{([^}]*)\}/g))
        for (const l of m[1].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g))
            out.push(l[1]);
    for (const m of e.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g))
        for (const l of m[1].split(','))
            if (l.trim() !== '')
                out.push(l.trim());
    return out;
}

function checkLabelNames(where, names, known) {
    for (const l of names)
        if (!known.labels.has(l))
            problem(where, `unknown label ${l} (no metric family has it, nor does the scrape add it)`);
}

function checkMetricNames(where, expr, known) {
    checkLabelNames(where, labelNames(expr), known);
    for (const name of metricNames(expr)) {
        if (known.has(name))
            continue;
        const base = name.replace(/_(bucket|sum|count)$/, '');
        if (base !== name && known.get(base) === 'histogram')
            continue;
        problem(where, `unknown metric ${name} (not registered in common/ or services/)`);
    }
}

// ---- the rules: manifest, plain file, subscriptions ------------------------

function plainRules(src) {
    const docs = readYamlDocs(path.join(src, 'deploy/prometheus/shelfline.rules.yml'));
    return docs[0] || {};
}

function checkRuleObject(file, obj, src) {
    const {PrometheusRule} =
        require('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule');
    try {
        new PrometheusRule(obj).validate();
    } catch (e) {
        problem(file, `PrometheusRule ${obj.metadata && obj.metadata.name}: ${e.message}`);
    }
    const groups = (obj.spec && obj.spec.groups) || [];
    for (const g of groups) {
        for (const r of g.rules || []) {
            const id = r.alert || r.record;
            if ((r.alert === undefined) === (r.record === undefined))
                problem(file, `group ${g.name}: a rule needs exactly one of alert and record`);
            if (r.alert !== undefined) {
                const sev = r.labels && r.labels.severity;
                if (!['critical', 'warning'].includes(sev))
                    problem(file, `alert ${id}: severity must be critical or warning, not ${sev}`);
                for (const a of ['summary', 'runbook'])
                    if (!r.annotations || !r.annotations[a])
                        problem(file, `alert ${id}: no ${a} annotation`);
            }
        }
    }
    const plain = plainRules(src);
    if (JSON.stringify(plain.groups) !== JSON.stringify(groups))
        problem(file, 'spec.groups differ from deploy/prometheus/shelfline.rules.yml ' +
                          '(run deploy/prometheus/gen-rules.sh > deploy/prometheus/shelfline.rules.yml)');
    return groups;
}

// The consumers the services start: subscription, producer (the app
// serving the WatchEvents it calls) and topics, read from the C sources.
function sourceSubscriptions(src) {
    const subs = [];
    const files = walkFiles(path.join(src, 'services'), (p) => p.endsWith('.c'));
    const optRe =
        /\.subscription\s*=\s*"([^"]+)"[^}]*?\.method\s*=\s*"\/shelfline\.v1\.(\w+)Service\/WatchEvents"[^}]*?\.topics\s*=\s*(\w+)/g;
    for (const f of files) {
        const text = fs.readFileSync(f, 'utf8');
        let m;
        while ((m = optRe.exec(text)) !== null) {
            const arr = new RegExp(`static const char \\*const ${m[3]}\\[\\]\\s*=\\s*\\{([^}]*)\\}`).exec(text);
            if (arr === null) {
                problem(f, `subscription ${m[1]}: cannot find the topics array ${m[3]}`);
                continue;
            }
            const topics = [...arr[1].matchAll(/"([^"]+)"/g)].map((t) => t[1]).sort();
            const producer = m[2].replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
            subs.push({subscription: m[1], producer, topics});
        }
    }
    return subs;
}

function checkSubscriptionTopics(file, groups, src) {
    let expr = null;
    for (const g of groups)
        for (const r of g.rules || [])
            if (r.record === 'shelfline:subscription_newest_id:max')
                expr = r.expr;
    if (expr === null) {
        problem(file, 'no recording rule shelfline:subscription_newest_id:max');
        return;
    }
    const inRules = new Map();
    const lineRe =
        /shelfline_events_newest_id\{app="([^"]+)",topic=~"([^"]+)"\}\),\s*"subscription",\s*"([^"]+)"/g;
    let m;
    while ((m = lineRe.exec(expr)) !== null)
        inRules.set(m[3], {producer: m[1], topics: m[2].split('|').sort()});
    const inSources = sourceSubscriptions(src);
    if (inSources.length === 0)
        problem(src, 'found no consumer (.subscription = ...) in services/');
    for (const s of inSources) {
        const r = inRules.get(s.subscription);
        if (r === undefined) {
            problem(file, `subscription ${s.subscription} (services/) is missing from ` +
                              'shelfline:subscription_newest_id:max');
            continue;
        }
        if (r.producer !== s.producer || r.topics.join('|') !== s.topics.join('|'))
            problem(file, `subscription ${s.subscription}: the rule reads ${r.producer} ` +
                              `${r.topics.join('|')}, the service ${s.producer} ${s.topics.join('|')}`);
        inRules.delete(s.subscription);
    }
    for (const name of inRules.keys())
        problem(file, `subscription ${name} in shelfline:subscription_newest_id:max is started by no service`);
}

// ---- a small kustomize -------------------------------------------------------

const KUSTOMIZATION_FIELDS =
    new Set(['apiVersion', 'kind', 'namespace', 'resources', 'components', 'patches',
             'configMapGenerator', 'images']);
// Lists a strategic merge patch merges, by their merge key; any other list
// is replaced (autoscaling/v2's metrics, for one, is atomic).
const MERGE_KEYS = new Map([['containers', 'name'], ['initContainers', 'name'], ['volumes', 'name'],
                            ['env', 'name'], ['volumeMounts', 'mountPath']]);

function strategicMerge(base, patch, key) {
    if (patch === null)
        return undefined;
    if (Array.isArray(patch)) {
        const mk = MERGE_KEYS.get(key);
        if (mk === undefined || !Array.isArray(base))
            return patch;
        // Items new to the list go first, in the patch's order, as kustomize
        // puts them.
        const out = base.slice();
        const added = [];
        for (const item of patch) {
            const i = out.findIndex((b) => b[mk] === item[mk]);
            if (i < 0)
                added.push(item);
            else
                out[i] = strategicMerge(out[i], item, '');
        }
        return added.concat(out);
    }
    if (typeof patch !== 'object' || typeof base !== 'object' || base === null || Array.isArray(base))
        return patch;
    const out = Object.assign({}, base);
    for (const [k, v] of Object.entries(patch)) {
        const merged = strategicMerge(base[k], v, k);
        if (merged === undefined)
            delete out[k];
        else
            out[k] = merged;
    }
    return out;
}

function group(apiVersion) {
    return apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
}

function sameObject(a, b) {
    return a.kind === b.kind && group(a.apiVersion) === group(b.apiVersion) &&
        a.metadata.name === b.metadata.name;
}

// Applies the strategic-merge patches (path entries of a kustomization's
// patches, relative to dir) to objs; returns the patched objects.
function applyPatches(dir, used, objs, patches, kfile) {
    for (const pt of patches) {
        if (pt.path === undefined) {
            problem(kfile, 'only patches with a path are rendered here');
            continue;
        }
        const p = path.join(dir, pt.path);
        used.add(p);
        for (const patch of readYamlDocs(p)) {
            if (!patch.metadata || !patch.apiVersion || !patch.kind) {
                problem(p, 'a patch needs apiVersion, kind and metadata.name');
                continue;
            }
            const i = objs.findIndex((o) => sameObject(o, patch));
            if (i < 0) {
                problem(p, `patches ${patch.kind} ${patch.metadata.name}, which no resource of ` +
                               `${kfile} defines`);
                continue;
            }
            const merged = strategicMerge(objs[i], patch, '');
            merged.__file = p;
            objs[i] = merged;
        }
    }
    return objs;
}

// Renders the kustomization in dir; returns its objects.  used collects
// every file it read.  A component's resources join those of the
// kustomization including it (including: the objects so far).
function renderKustomization(dir, used, including) {
    const kfile = path.join(dir, 'kustomization.yaml');
    used.add(kfile);
    const k = readYamlDocs(kfile)[0] || {};
    for (const f of Object.keys(k))
        if (!KUSTOMIZATION_FIELDS.has(f))
            problem(kfile, `field ${f} is not one this check renders (add it to check_deploy.js)`);
    let objs = including || [];
    for (const r of k.resources || []) {
        const p = path.join(dir, r);
        if (!fs.existsSync(p)) {
            problem(kfile, `resource ${r} does not exist`);
            continue;
        }
        if (fs.statSync(p).isDirectory()) {
            objs = objs.concat(renderKustomization(p, used));
        } else {
            used.add(p);
            objs = objs.concat(readYamlDocs(p).map((o) => Object.assign(o, {__file: p})));
        }
    }
    // A component (kind Component) adds its resources and applies its
    // patches to what the including kustomization has so far.
    for (const c of k.components || []) {
        const p = path.join(dir, c);
        const ck = readYamlDocs(path.join(p, 'kustomization.yaml'))[0] || {};
        if (ck.kind !== 'Component') {
            problem(kfile, `component ${c} is not a kind: Component kustomization`);
            continue;
        }
        objs = applyPatches(p, used, renderKustomization(p, used, objs), ck.patches || [],
                            path.join(p, 'kustomization.yaml'));
    }
    for (const g of k.configMapGenerator || []) {
        const data = {};
        for (const envFile of g.envs || []) {
            const p = path.join(dir, envFile);
            used.add(p);
            for (const line of fs.readFileSync(p, 'utf8').split('\n')) {
                const t = line.trim();
                if (t === '' || t.startsWith('#'))
                    continue;
                const eq = t.indexOf('=');
                if (eq <= 0)
                    problem(p, `"${t}" is not KEY=VALUE`);
                else
                    data[t.slice(0, eq)] = t.slice(eq + 1);
            }
        }
        const labels = (g.options && g.options.labels) || {};
        objs.push({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: g.name, labels}, data,
                   __file: kfile});
    }
    if (k.kind !== 'Component')
        objs = applyPatches(dir, used, objs, k.patches || [], kfile);
    if (k.namespace)
        for (const o of objs)
            if (o.kind !== 'Namespace')
                o.metadata = Object.assign({}, o.metadata, {namespace: k.namespace});
    for (const img of k.images || [])
        for (const o of objs)
            for (const c of podContainers(o))
                if (c.image === img.name || c.image.startsWith(img.name + ':'))
                    c.image = `${img.newName || img.name}:${img.newTag}`;
    return objs;
}

function podContainers(o) {
    const spec = o.spec && o.spec.template && o.spec.template.spec;
    return spec ? (spec.containers || []).concat(spec.initContainers || []) : [];
}

// ---- Kubernetes objects ------------------------------------------------------

const MODELS = {
    'v1/Namespace': 'kubernetes-models/v1/Namespace',
    'v1/Service': 'kubernetes-models/v1/Service',
    'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
    'v1/Secret': 'kubernetes-models/v1/Secret',
    'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
    'autoscaling/v2/HorizontalPodAutoscaler': 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1/PodDisruptionBudget',
    'v1/ServiceAccount': 'kubernetes-models/v1/ServiceAccount',
    'networking.k8s.io/v1/NetworkPolicy': 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
    'cert-manager.io/v1/Certificate': '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate',
    'cert-manager.io/v1/Issuer': '@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer',
};

function validateObject(o) {
    const key = `${o.apiVersion}/${o.kind}`;
    const where = `${o.__file} (${o.kind} ${o.metadata && o.metadata.name})`;
    const mod = MODELS[key];
    if (mod === undefined) {
        problem(where, `no schema here for ${key} (add it to MODELS in check_deploy.js)`);
        return;
    }
    const clean = Object.assign({}, o);
    delete clean.__file;
    const Model = require(mod)[o.kind];
    try {
        new Model(clean).validate();
    } catch (e) {
        problem(where, e.message);
    }
}

function labelsMatch(selector, labels) {
    return Object.entries(selector || {}).every(([k, v]) => labels && labels[k] === v);
}

// What the adapter serves: for each rule, the name its seriesQuery's
// metric gets (name.matches -> name.as).
function adapterMetrics(src) {
    const file = path.join(src, 'deploy/prometheus/adapter-rules.yaml');
    const out = new Map();
    for (const r of (readYamlDocs(file)[0] || {}).rules || []) {
        const series = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(r.seriesQuery || '');
        if (series === null || !r.name || !r.metricsQuery) {
            problem(file, 'a rule needs seriesQuery (starting with a metric name), name and metricsQuery');
            continue;
        }
        const as = series[1].replace(new RegExp(r.name.matches), r.name.as || '$&');
        out.set(as, {series: series[1], query: r.metricsQuery, file});
        const ov = (r.resources && r.resources.overrides) || {};
        if (!ov.namespace || !ov.pod)
            problem(file, `${as}: resources.overrides must map the namespace and pod labels`);
    }
    return out;
}

function checkObjects(label, objs, src) {
    const seen = new Set();
    for (const o of objs) {
        const id = `${o.kind}/${o.metadata && o.metadata.namespace}/${o.metadata && o.metadata.name}`;
        if (seen.has(id))
            problem(label, `${id} defined twice`);
        seen.add(id);
        validateObject(o);
    }
    const of = (kind) => objs.filter((o) => o.kind === kind);
    const deployments = of('Deployment');
    const served = adapterMetrics(src);
    const configMaps = new Set(of('ConfigMap').map((o) => o.metadata.name));
    for (const d of deployments) {
        const where = `${label}: Deployment ${d.metadata.name}`;
        const tmpl = d.spec.template.metadata || {};
        if (!labelsMatch(d.spec.selector.matchLabels, tmpl.labels))
            problem(where, 'selector.matchLabels do not match the pod template labels');
        const ports = {};
        for (const c of podContainers(d))
            for (const p of c.ports || [])
                ports[p.name] = p.containerPort;
        const ann = tmpl.annotations || {};
        if (ann['prometheus.io/scrape'] !== 'true' || String(ports.http) !== ann['prometheus.io/port'])
            problem(where, `prometheus.io/scrape must be "true" and prometheus.io/port the http ` +
                               `port (${ports.http}), not ${ann['prometheus.io/port']}`);
        for (const c of podContainers(d))
            for (const ef of c.envFrom || [])
                if (ef.configMapRef && !configMaps.has(ef.configMapRef.name))
                    problem(where, `envFrom names ConfigMap ${ef.configMapRef.name}, which is not rendered`);
        for (const kind of ['HorizontalPodAutoscaler', 'PodDisruptionBudget'])
            if (!of(kind).some((o) => o.metadata.name === d.metadata.name))
                problem(where, `has no ${kind}`);
        d.__ports = ports;
    }
    const accounts = new Set(of('ServiceAccount').map((o) => o.metadata.name));
    const certSecrets = new Set(of('Certificate').map((o) => o.spec.secretName));
    // Secrets the operator creates from deploy/k8s/secret.template.yaml
    // (the JWT key and peer tokens, the database URL): no Certificate
    // fills them.  Every other secret volume under the TLS component must.
    const operatorSecrets = new Set(['shelfline-auth', 'shelfline-secrets']);
    for (const d of deployments) {
        const where = `${label}: Deployment ${d.metadata.name}`;
        const spec = d.spec.template.spec;
        if (!accounts.has(spec.serviceAccountName))
            problem(where, `serviceAccountName ${spec.serviceAccountName} is not a rendered ServiceAccount`);
        for (const v of spec.volumes || [])
            if (v.secret && certSecrets.size > 0 && !certSecrets.has(v.secret.secretName) &&
                !operatorSecrets.has(v.secret.secretName))
                problem(where, `volume ${v.name}: Secret ${v.secret.secretName} is no Certificate's secretName`);
        // Keys are files, never environment variables.
        for (const c of podContainers(d))
            for (const e of c.env || [])
                if (/KEY$/.test(e.name) && e.value === undefined)
                    problem(where, `${e.name} comes from ${Object.keys(e.valueFrom || {})}: keys are mounted files`);
    }
    for (const np of of('NetworkPolicy')) {
        const where = `${label}: NetworkPolicy ${np.metadata.name}`;
        if (!deployments.some((x) => labelsMatch(np.spec.podSelector.matchLabels, x.spec.template.metadata.labels)))
            problem(where, 'its podSelector matches no Deployment\'s pods');
        for (const rule of np.spec.ingress || [])
            for (const p of rule.ports || [])
                if (typeof p.port === 'string' && !deployments.some((x) =>
                    labelsMatch(np.spec.podSelector.matchLabels, x.spec.template.metadata.labels) &&
                    x.__ports[p.port] !== undefined))
                    problem(where, `ingress port ${p.port} is no container port of the pods it selects`);
    }
    for (const s of of('Service')) {
        const where = `${label}: Service ${s.metadata.name}`;
        const d = deployments.find((x) => labelsMatch(s.spec.selector, x.spec.template.metadata.labels));
        if (d === undefined) {
            problem(where, 'its selector matches no Deployment\'s pods');
            continue;
        }
        for (const p of s.spec.ports || [])
            if (typeof p.targetPort === 'string' && d.__ports[p.targetPort] === undefined)
                problem(where, `targetPort ${p.targetPort} is no container port of ${d.metadata.name}`);
    }
    for (const pdb of of('PodDisruptionBudget')) {
        const where = `${label}: PodDisruptionBudget ${pdb.metadata.name}`;
        if (!deployments.some((x) => labelsMatch(pdb.spec.selector.matchLabels, x.spec.template.metadata.labels)))
            problem(where, 'its selector matches no Deployment\'s pods');
        if ((pdb.spec.minAvailable === undefined) === (pdb.spec.maxUnavailable === undefined))
            problem(where, 'needs exactly one of minAvailable and maxUnavailable');
    }
    for (const h of of('HorizontalPodAutoscaler')) {
        const where = `${label}: HorizontalPodAutoscaler ${h.metadata.name}`;
        const ref = h.spec.scaleTargetRef;
        if (ref.kind !== 'Deployment' || !deployments.some((x) => x.metadata.name === ref.name))
            problem(where, `scaleTargetRef ${ref.kind} ${ref.name} is not a rendered Deployment`);
        if ((h.spec.minReplicas || 1) > h.spec.maxReplicas)
            problem(where, `minReplicas ${h.spec.minReplicas} > maxReplicas ${h.spec.maxReplicas}`);
        for (const m of h.spec.metrics || []) {
            const spec = m[m.type.charAt(0).toLowerCase() + m.type.slice(1)];
            const target = spec && spec.target;
            const need = {Utilization: 'averageUtilization', AverageValue: 'averageValue', Value: 'value'};
            if (!target || target[need[target.type]] === undefined)
                problem(where, `${m.type} metric: target type ${target && target.type} needs ` +
                                   `${target && need[target.type]}`);
            if (m.type === 'Pods' && !served.has(spec.metric.name))
                problem(where, `Pods metric ${spec.metric.name} is not served by ` +
                                   `deploy/prometheus/adapter-rules.yaml (it serves ${[...served.keys()].join(', ')})`);
        }
    }
}

// Objects as JSON with sorted keys, the generated ConfigMap's hash suffix
// taken out.
function canonical(o) {
    const clean = Object.assign({}, o);
    delete clean.__file;
    return JSON.stringify(clean, (k, v) => (v && typeof v === 'object' && !Array.isArray(v))
        ? Object.keys(v).sort().reduce((a, key) => (a[key] = v[key], a), {})
        : v).replace(/shelfline-config-[a-z0-9]{10}\b/g, 'shelfline-config');
}

// Where kubectl (with its built-in kustomize) is installed, its rendering
// must be this script's, object for object: the renderer above is checked
// against the real one wherever one is at hand.
function compareWithKubectl(dir, objs) {
    const r = require('child_process').spawnSync('kubectl', ['kustomize', dir], {encoding: 'utf8'});
    if (r.error !== undefined)
        return 'kubectl not installed, rendering not compared';
    if (r.status !== 0) {
        problem(dir, `kubectl kustomize failed: ${r.stderr.trim()}`);
        return '';
    }
    const theirs = YAML.parseAllDocuments(r.stdout).map((d) => d.toJS()).filter((o) => o);
    const mine = new Map(objs.map((o) => [`${o.kind}/${o.metadata.name}`, canonical(o)]));
    for (const t of theirs) {
        const id = `${t.kind}/${t.metadata.name.replace(/^shelfline-config-[a-z0-9]{10}$/, 'shelfline-config')}`;
        if (mine.get(id) !== canonical(t))
            problem(dir, `${id}: kubectl kustomize renders it otherwise than check_deploy.js`);
        mine.delete(id);
    }
    for (const id of mine.keys())
        problem(dir, `${id}: check_deploy.js renders it, kubectl kustomize does not`);
    return 'same rendering as kubectl kustomize';
}

function cmdManifests(src) {
    const k8s = path.join(src, 'deploy/k8s');
    const yamls = walkFiles(k8s, (p) => /\.ya?ml$/.test(p));
    const used = new Set();
    let rendered = 0;
    for (const kfile of yamls.filter((p) => path.basename(p) === 'kustomization.yaml')) {
        const dir = path.dirname(kfile);
        // A component is rendered by the kustomizations that include it.
        if ((readYamlDocs(kfile)[0] || {}).kind === 'Component')
            continue;
        const objs = renderKustomization(dir, used);
        const cmp = compareWithKubectl(dir, objs);
        checkObjects(path.relative(src, dir), objs, src);
        rendered += objs.length;
        console.log(`${path.relative(src, dir)}: ${objs.length} objects; ${cmp}`);
    }
    // Files no kustomization reads (the Secret's template) stand alone.
    for (const f of yamls.filter((p) => !used.has(p))) {
        for (const o of readYamlDocs(f)) {
            o.__file = f;
            validateObject(o);
            rendered++;
        }
    }
    const ruleFile = path.join(src, 'deploy/prometheus/shelfline-rules.yaml');
    for (const o of readYamlDocs(ruleFile)) {
        const groups = checkRuleObject(ruleFile, o, src);
        checkSubscriptionTopics(ruleFile, groups, src);
        rendered++;
    }
    return `${rendered} objects`;
}

// ---- PromQL of the dashboard and the adapter --------------------------------

const GRAFANA_BUILTINS = {
    __rate_interval: '5m', __interval: '1m', __range: '6h', __range_s: '21600', __interval_ms: '60000',
};

function cmdPromql(src, out) {
    const known = knownMetrics(src);
    const file = path.join(src, 'deploy/grafana/shelfline-dashboard.json');
    const dash = JSON.parse(fs.readFileSync(file, 'utf8'));
    const vars = {};
    const sample = {datasource: 'prometheus', namespace: 'shelfline', service: 'inventory'};
    for (const v of (dash.templating && dash.templating.list) || [])
        vars[v.name] = sample[v.name] !== undefined ? sample[v.name] : 'x';
    for (const need of ['datasource', 'namespace'])
        if (vars[need] === undefined)
            problem(file, `no template variable ${need}`);
    const exprs = [];
    const substitute = (where, expr) => expr.replace(/\$\{?(\w+)\}?/g, (all, name) => {
        if (GRAFANA_BUILTINS[name] !== undefined)
            return GRAFANA_BUILTINS[name];
        if (vars[name] !== undefined)
            return vars[name];
        problem(where, `uses ${all}, which is no template variable`);
        return 'x';
    });
    for (const v of (dash.templating && dash.templating.list) || []) {
        if (v.type !== 'query')
            continue;
        const q = typeof v.query === 'string' ? v.query : v.query.query;
        const m = /^label_values\((.*),\s*(\w+)\)$/.exec(q);
        if (m === null)
            problem(file, `variable ${v.name}: expected label_values(SELECTOR, LABEL), got ${q}`);
        else
            exprs.push({where: `variable ${v.name}`, expr: substitute(`variable ${v.name}`, m[1])});
    }
    const ids = new Set();
    const panels = [];
    const collect = (list) => {
        for (const p of list || []) {
            panels.push(p);
            collect(p.panels);
        }
    };
    collect(dash.panels);
    for (const p of panels) {
        const where = `panel ${p.id} "${p.title}"`;
        if (ids.has(p.id))
            problem(file, `${where}: id used twice`);
        ids.add(p.id);
        if (p.type === 'row')
            continue;
        if (!p.datasource || p.datasource.uid !== '${datasource}')
            problem(file, `${where}: datasource must be the \${datasource} variable`);
        if (!p.targets || p.targets.length === 0)
            problem(file, `${where}: no query`);
        const refs = new Set();
        for (const t of p.targets || []) {
            if (refs.has(t.refId))
                problem(file, `${where}: refId ${t.refId} used twice`);
            refs.add(t.refId);
            exprs.push({where, expr: substitute(`${file}: ${where}`, t.expr)});
            checkLabelNames(`${file}: ${where} legend`,
                            [...String(t.legendFormat || '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]),
                            known);
        }
    }
    for (const e of exprs)
        checkMetricNames(`${file}: ${e.where}`, e.expr, known);
    for (const g of plainRules(src).groups || [])
        for (const r of g.rules || [])
            checkMetricNames(`deploy/prometheus/shelfline.rules.yml: ${r.alert || r.record}`, r.expr, known);
    // The adapter's query as it runs for one HPA.
    for (const [name, a] of adapterMetrics(src)) {
        if (!known.has(a.series))
            problem(a.file, `${name}: series ${a.series} is not registered by the suite`);
        exprs.push({where: `adapter ${name}`,
                    expr: a.query.replace(/<<\.Series>>/g, a.series)
                              .replace(/<<\.LabelMatchers>>/g, 'namespace="shelfline",pod=~"inventory-a|inventory-b"')
                              .replace(/<<\.GroupBy>>/g, 'pod')});
    }
    const rules = {groups: [{name: 'promql-of-deploy', rules: exprs.map((e, i) => ({
        record: `check:expr_${i}`, expr: e.expr, labels: {source: e.where}}))}]};
    fs.writeFileSync(path.join(out, 'promql.rules.yml'), YAML.stringify(rules));
    return `${exprs.length} expressions from ${panels.length} panels, variables and the adapter`;
}

function cmdScrape(src, out) {
    const file = path.join(src, 'deploy/prometheus/scrape-config.yaml');
    const cfg = readYamlDocs(file)[0] || {};
    const labels = new Set();
    for (const job of cfg.scrape_configs || []) {
        if (!job.kubernetes_sd_configs)
            problem(file, `job ${job.job_name}: no kubernetes_sd_configs`);
        delete job.kubernetes_sd_configs;
        job.static_configs = [{targets: ['127.0.0.1:8051']}];
        for (const r of job.relabel_configs || [])
            if (r.target_label)
                labels.add(r.target_label);
    }
    for (const l of ['namespace', 'pod', 'app'])
        if (!labels.has(l))
            problem(file, `no relabeling sets the ${l} label the rules and the dashboard use`);
    fs.writeFileSync(path.join(out, 'scrape.yml'), YAML.stringify(cfg));
    return `${(cfg.scrape_configs || []).length} scrape jobs`;
}

const [cmd, src_dir, out_dir] = process.argv.slice(2);
const commands = {manifests: cmdManifests, promql: cmdPromql, scrape: cmdScrape};
if (commands[cmd] === undefined || src_dir === undefined || (cmd !== 'manifests' && out_dir === undefined)) {
    console.error('usage: check_deploy.js manifests SOURCE_DIR | promql SOURCE_DIR OUT_DIR | scrape SOURCE_DIR OUT_DIR');
    process.exit(2);
}
const summary = commands[cmd](src_dir, out_dir);
for (const p of problems)
    console.log(p);
console.log(`check_deploy.js ${cmd}: ${summary}, ${problems.length} problem(s)`);
process.exit(problems.length === 0 ? 0 : 1);
